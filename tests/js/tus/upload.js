// Drives tus-js-client 4.3.1 (Node 20) against the server; prints one JSON line.
// Usage: node upload.js '<json options>'
//   {endpoint, token, file, chunkSize, metadata, mode: "simple" | "abort-resume" | "parallel",
//    urlStore (path, for abort-resume), parallel (count)}
'use strict';
const fs = require('fs');
const tus = require('tus-js-client');

const opts = JSON.parse(process.argv[2]);

function done(result) {
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exit(0);
}

function fail(err) {
  const r = err && err.originalResponse;
  done({ ok: false, error: String(err && err.message || err),
         status: r ? r.getStatus() : null, body: r ? r.getBody() : null });
}

function base(extra) {
  return Object.assign({
    endpoint: opts.endpoint,
    headers: { Authorization: `Bearer ${opts.token}` },
    chunkSize: opts.chunkSize || 256 * 1024,
    metadata: opts.metadata || {},
    retryDelays: [100, 300],
    onError: fail,
  }, extra);
}

function simple() {
  const file = fs.createReadStream(opts.file);
  let chunks = 0;
  const upload = new tus.Upload(file, base({
    onChunkComplete: () => { chunks += 1; },
    onSuccess: () => done({ ok: true, url: upload.url, chunks }),
  }));
  upload.start();
}

function parallel() {
  const file = fs.createReadStream(opts.file);
  const upload = new tus.Upload(file, base({
    parallelUploads: opts.parallel || 3,
    onSuccess: () => done({ ok: true, url: upload.url }),
  }));
  upload.start();
}

function abortResume() {
  const urlStorage = new tus.FileUrlStorage(opts.urlStore);
  const common = { urlStorage, storeFingerprintForResuming: true, removeFingerprintOnSuccess: true };
  const first = new tus.Upload(fs.createReadStream(opts.file), base(Object.assign({}, common, {
    onChunkComplete: (chunkSize, accepted) => {
      if (accepted >= 2 * (opts.chunkSize || 256 * 1024)) {
        first.abort(false).then(() => resume(first.url, accepted));
      }
    },
    onSuccess: () => done({ ok: false, error: 'first upload was not aborted' }),
  })));
  first.start();

  function resume(firstUrl, acceptedBeforeAbort) {
    let resumedFrom = null;
    const second = new tus.Upload(fs.createReadStream(opts.file), base(Object.assign({}, common, {
      onProgress: (sent) => { if (resumedFrom === null) resumedFrom = sent; },
      onChunkComplete: (chunkSize, accepted) => { if (resumedFrom === null || resumedFrom > accepted) resumedFrom = accepted - chunkSize; },
      onSuccess: () => done({ ok: true, firstUrl, url: second.url, acceptedBeforeAbort, resumedFrom }),
    })));
    second.findPreviousUploads().then((previous) => {
      if (!previous.length) return fail(new Error('no previous upload in the URL store'));
      second.resumeFromPreviousUpload(previous[0]);
      second.start();
    }, fail);
  }
}

({ simple, parallel, 'abort-resume': abortResume })[opts.mode]();
