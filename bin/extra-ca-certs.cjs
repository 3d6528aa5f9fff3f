// NODE_EXTRA_CA_CERTS, trusted when the process first opens a TLS connection instead of at Node's start.
//
// Node 20 reads the file, and builds its whole root certificate store (~140 bundled roots plus the file's),
// before any JavaScript runs: ~40 ms of every start on a machine whose NODE_EXTRA_CA_CERTS names the
// system bundle, which is as long as a whole `helm template` run. Go programs load certificates only when
// they first verify one. bin/slipway.cjs's shell line hands the variable over as SLIPWAY_EXTRA_CA_CERTS for
// `slipway template` (a TLS client only: remote charts come through fetch), and this module gives TLS
// clients the trust Node would have given them: the bundled roots plus the file's certificates, read once.
'use strict';

/**
 * The options of tls.createSecureContext that shape a context (Node 20's configSecureContext reads these).
 * A call with any of them gets a context of its own; every other call shares one.
 */
const CONTEXT_OPTIONS = [
  'cert',
  'key',
  'pfx',
  'passphrase',
  'ciphers',
  'ecdhCurve',
  'dhparam',
  'honorCipherOrder',
  'secureOptions',
  'secureProtocol',
  'minVersion',
  'maxVersion',
  'sessionIdContext',
  'ticketKeys',
  'sessionTimeout',
  'sigalgs',
  'privateKeyEngine',
  'privateKeyIdentifier',
  'crl',
  'clientCertEngine',
];

/**
 * The certificates of `file` as one PEM string, or undefined after the warning Node prints for a file it
 * cannot load (Node then goes on with its bundled roots, and so does this).
 */
function readExtraCerts(file, warn) {
  let text;
  try {
    text = require('node:fs').readFileSync(file, 'latin1');
  } catch (err) {
    warn(`Warning: Ignoring extra certs from \`${file}\`, load failed: ${err.message}\n`);
    return undefined;
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----')) {
    warn(`Warning: Ignoring extra certs from \`${file}\`, load failed: no certificates found\n`);
    return undefined;
  }
  return text;
}

/**
 * Makes tls.createSecureContext trust Node's bundled roots plus the certificates in `file` wherever the
 * caller gives no `ca` of its own (an explicit `ca` replaces the roots, as it does in Node). The file is read
 * on the first call; contexts without options of their own share one, so the certificates are parsed once.
 */
function trustExtraCaCerts(file, warn = (text) => process.stderr.write(text)) {
  const tls = require('node:tls');
  const original = tls.createSecureContext;
  let ca;
  let shared;
  tls.createSecureContext = function createSecureContext(options) {
    if (options?.ca !== undefined) return original(options);
    if (ca === undefined) {
      const extra = readExtraCerts(file, warn);
      ca = extra === undefined ? [...tls.rootCertificates] : [...tls.rootCertificates, extra];
    }
    if (options !== undefined && CONTEXT_OPTIONS.some((name) => options[name] !== undefined)) {
      return original({ ...options, ca });
    }
    shared ??= original({ ca });
    return shared;
  };
}

/**
 * Calls trustExtraCaCerts(file) just before the first global fetch(), so a run that opens no connection
 * never loads node:tls (~3 ms). The global is replaced by a forwarder without reading it: reading it is what
 * loads Node's fetch implementation.
 */
function trustExtraCaCertsOnFirstFetch(file) {
  const descriptor = Object.getOwnPropertyDescriptor(globalThis, 'fetch');
  if (descriptor === undefined) return trustExtraCaCerts(file);
  let fetchImpl;
  Object.defineProperty(globalThis, 'fetch', {
    configurable: true,
    enumerable: descriptor.enumerable,
    writable: true,
    // Code that kept this forwarder (fetch = options.fetch ?? fetch) keeps calling it: it trusts only once.
    value: function fetch(...args) {
      if (fetchImpl === undefined) {
        fetchImpl = descriptor.get ? descriptor.get.call(globalThis) : descriptor.value;
        trustExtraCaCerts(file);
        if (globalThis.fetch === fetch) globalThis.fetch = fetchImpl;
      }
      return fetchImpl.apply(this, args);
    },
  });
}

module.exports = { trustExtraCaCerts, trustExtraCaCertsOnFirstFetch };
