// A built-in ValuesEditor used when the gitops module does not provide one: edits `image.tag` with the
// yaml Document API (comments and formatting kept) and commits through GitService, retrying on races.
import { isMap, isScalar, parseDocument } from 'yaml';
import { ConflictError, NotFoundError, ValidationError } from '../core/index.ts';
import { type GitService, runGit } from '../git/index.ts';
import type { ValuesEditor } from './types.ts';

/** Returns `text` with `image.tag` set to `tag`; throws when the file is not a YAML mapping. Pure. */
export function setImageTagInYaml(text: string, tag: string, file: string): string {
  const doc = parseDocument(text);
  if (doc.errors.length > 0)
    throw new ValidationError(`Cannot parse ${file}: ${doc.errors[0]!.message.split('\n')[0]}`, {
      location: { file },
    });
  if (!isMap(doc.contents)) throw new ValidationError(`${file} must hold a mapping`, { location: { file } });
  const node = doc.getIn(['image', 'tag'], true);
  if (isScalar(node)) node.value = tag;
  else doc.setIn(['image', 'tag'], tag);
  return doc.toString();
}

export function createGitValuesEditor(git: GitService): ValuesEditor {
  return {
    async setImageTag({ repo, file, tag, author, message }) {
      const head = await runGit(['-C', git.repoPath(repo), 'symbolic-ref', '--short', 'HEAD'], {
        allowFailure: true,
      });
      const branch = head.stdout.trim() || 'main';
      for (let attempt = 0; ; attempt++) {
        const parent = await git.resolveRef(repo, `refs/heads/${branch}`);
        if (!parent) throw new NotFoundError(`Branch "${branch}" of ${repo} does not exist`);
        const text = await git.readFile(repo, parent, file);
        if (text === undefined) throw new NotFoundError(`${file} not found in ${repo}@${branch}`);
        const next = setImageTagInYaml(text, tag, file);
        try {
          const { commit } = await git.commitFiles(repo, {
            branch,
            files: { [file]: next },
            message,
            author: { name: author },
            expectedParent: parent,
          });
          return { commit };
        } catch (err) {
          if (!(err instanceof ConflictError) || attempt >= 5) throw err;
        }
      }
    },
  };
}
