// Direct-to-bucket uploads with real progress: a presigned POST through XMLHttpRequest (fetch has
// no upload progress), or a multipart upload whose parts go up a few at a time, each retried.

const PART_CONCURRENCY = 3;
const PART_ATTEMPTS = 4;

const EXTENSION_TYPES = {
  jpg: "image/jpeg", jpeg: "image/jpeg", png: "image/png", gif: "image/gif", webp: "image/webp",
  bmp: "image/bmp", tif: "image/tiff", tiff: "image/tiff", heic: "image/heic", heif: "image/heif",
  avif: "image/avif", mp4: "video/mp4", m4v: "video/mp4", mov: "video/quicktime", avi: "video/x-msvideo",
  mkv: "video/x-matroska", webm: "video/webm", ogv: "video/ogg", mp3: "audio/mpeg", wav: "audio/wav",
  ogg: "audio/ogg", oga: "audio/ogg", aac: "audio/aac", m4a: "audio/mp4", flac: "audio/flac",
  pdf: "application/pdf", txt: "text/plain", doc: "application/msword", zip: "application/zip",
  docx: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
};

/** The content type to declare: the browser's guess, else one from the extension. */
export function contentTypeOf(file) {
  if (file.type) return file.type;
  const ext = (file.name.split(".").pop() || "").toLowerCase();
  return EXTENSION_TYPES[ext] || "application/octet-stream";
}

class TransferError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

function s3Message(xhr) {
  const text = xhr.responseText || "";
  const match = text.match(/<Message>([^<]*)<\/Message>/);
  return match ? match[1] : `HTTP ${xhr.status}`;
}

function send(method, url, body, onProgress, signal) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(event.loaded, event.total);
    });
    xhr.addEventListener("load", () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve(xhr);
      else reject(new TransferError(`the bucket refused the upload: ${s3Message(xhr)}`, xhr.status));
    });
    xhr.addEventListener("error", () => reject(new TransferError("network error during upload", 0)));
    xhr.addEventListener("abort", () => reject(new TransferError("upload cancelled", 0)));
    if (signal) signal.addEventListener("abort", () => xhr.abort(), { once: true });
    xhr.send(body);
  });
}

/** POST the file with every presigned field first, then `file`. */
async function postUpload(upload, file, onProgress, signal) {
  const form = new FormData();
  for (const [name, value] of Object.entries(upload.fields)) form.append(name, value);
  form.append("file", file);
  // The request body is a little larger than the file (form fields); scale to the file's bytes.
  await send("POST", upload.url, form, (loaded, total) => onProgress((loaded / total) * file.size), signal);
  onProgress(file.size);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** PUT every part (PART_CONCURRENCY at a time, each retried with backoff), then return the ETags. */
async function multipartUpload(upload, file, onProgress, signal) {
  const loaded = new Map();
  const report = () => onProgress([...loaded.values()].reduce((a, b) => a + b, 0));
  const queue = [...upload.parts];
  const done = [];
  async function putPart(part) {
    const start = (part.part_number - 1) * upload.part_size;
    const blob = file.slice(start, Math.min(file.size, start + upload.part_size));
    for (let attempt = 1; ; attempt++) {
      try {
        const xhr = await send("PUT", part.url, blob, (bytes) => {
          loaded.set(part.part_number, bytes);
          report();
        }, signal);
        const etag = xhr.getResponseHeader("ETag");
        if (!etag) throw new TransferError("the bucket did not expose the part's ETag (CORS)", 0);
        loaded.set(part.part_number, blob.size);
        report();
        return { part_number: part.part_number, etag };
      } catch (err) {
        loaded.set(part.part_number, 0);
        report();
        const retryable = err.status === 0 || err.status >= 500 || err.status === 429;
        if (signal && signal.aborted) throw err;
        if (!retryable || attempt >= PART_ATTEMPTS) throw err;
        await sleep(300 * 2 ** (attempt - 1));
      }
    }
  }
  async function worker() {
    while (queue.length) done.push(await putPart(queue.shift()));
  }
  await Promise.all(Array.from({ length: Math.min(PART_CONCURRENCY, queue.length) }, worker));
  return done.sort((a, b) => a.part_number - b.part_number);
}

/**
 * Upload `file` to the bucket as `created.upload` says; onProgress(bytesSent) as it goes.
 * For multipart uploads `complete(parts)` is called with the collected ETags.
 */
export async function transfer(created, file, { onProgress, complete, signal }) {
  const upload = created.upload;
  if (upload.method === "MULTIPART") {
    const parts = await multipartUpload(upload, file, onProgress, signal);
    await complete(parts);
  } else {
    await postUpload(upload, file, onProgress, signal);
  }
}
