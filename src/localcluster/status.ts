// Kubernetes `Status` error bodies, as a real kube-apiserver sends them.

export interface StatusCause {
  reason: string;
  message: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

/** An error that the API answers as a `Status` object with `code`. */
export class KubeError extends Error {
  readonly code: number;
  readonly reason: string;
  readonly details: StatusDetails | undefined;
  readonly metadata: Record<string, string>;
  constructor(
    code: number,
    reason: string,
    message: string,
    details?: StatusDetails,
    metadata: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'KubeError';
    this.code = code;
    this.reason = reason;
    this.details = details;
    this.metadata = metadata;
  }

  toStatus(): Record<string, unknown> {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: this.metadata,
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }
}

/** `kind` for messages: `configmaps` (resource) or `Deployment.apps` (qualified kind). */
export function notFound(resource: string, name: string, group = ''): KubeError {
  const qualified = group ? `${resource}.${group}` : resource;
  return new KubeError(404, 'NotFound', `${qualified} "${name}" not found`, {
    name,
    ...(group ? { group } : {}),
    kind: resource,
  });
}

export function alreadyExists(resource: string, name: string, group = ''): KubeError {
  const qualified = group ? `${resource}.${group}` : resource;
  return new KubeError(409, 'AlreadyExists', `${qualified} "${name}" already exists`, {
    name,
    ...(group ? { group } : {}),
    kind: resource,
  });
}

export function conflict(resource: string, name: string, group = ''): KubeError {
  const qualified = group ? `${resource}.${group}` : resource;
  return new KubeError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualified} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    { name, ...(group ? { group } : {}), kind: resource },
  );
}

export function invalid(kind: string, group: string, name: string, causes: StatusCause[]): KubeError {
  const qualified = group ? `${kind}.${group}` : kind;
  const parts = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message));
  const summary = parts.length === 1 ? parts[0] : `[${parts.join(', ')}]`;
  return new KubeError(422, 'Invalid', `${qualified} "${name}" is invalid: ${summary}`, {
    name,
    ...(group ? { group } : {}),
    kind,
    causes,
  });
}

export function badRequest(message: string): KubeError {
  return new KubeError(400, 'BadRequest', message);
}

export function resourceNotFound(): KubeError {
  return new KubeError(404, 'NotFound', 'the server could not find the requested resource', {});
}

export function methodNotAllowed(): KubeError {
  return new KubeError(
    405,
    'MethodNotAllowed',
    'the server does not allow this method on the requested resource',
    {},
  );
}

export function unsupportedMediaType(): KubeError {
  return new KubeError(415, 'UnsupportedMediaType', '415: Unsupported Media Type', {});
}

export function notAcceptable(): KubeError {
  return new KubeError(
    406,
    'NotAcceptable',
    '406: Not Acceptable\n\nAvailable representations: application/json, application/yaml, application/vnd.kubernetes.protobuf',
    {},
  );
}

export function unauthorized(): KubeError {
  return new KubeError(401, 'Unauthorized', 'Unauthorized');
}

export function forbidden(
  user: string,
  verb: string,
  resource: string,
  group: string,
  ns?: string,
): KubeError {
  const where = ns ? ` in the namespace "${ns}"` : ' at the cluster scope';
  return new KubeError(
    403,
    'Forbidden',
    `${resource}${group ? `.${group}` : ''} is forbidden: User "${user}" cannot ${verb} resource "${resource}" in API group "${group}"${where}`,
    { ...(group ? { group } : {}), kind: resource },
  );
}

export function expired(message: string, metadata: Record<string, string> = {}): KubeError {
  return new KubeError(410, 'Expired', message, undefined, metadata);
}
