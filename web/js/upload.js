// Direct-to-bucket uploads with Uppy (@uppy/core + @uppy/aws-s3 + @uppy/golden-retriever, from the
// `uppy` npm package, served from /web/vendor/ by `make web-deps`). @uppy/aws-s3 speaks the API's
// /s3 routes (docs/uppy.md) with the bearer token in `headers`: a presigned POST below the
// multipart threshold, else parts signed one by one, retried, pausable, and resumed after a reload
// from ListParts (Golden Retriever keeps the file and its upload id in the browser).
import { AwsS3, GoldenRetriever, Uppy } from "/web/vendor/uppy.min.mjs";

const MIB = 1024 * 1024;
// Files up to this size are kept in IndexedDB, so a reload resumes them without picking them again.
const KEEP_FOR_RESUME_BYTES = 200 * MIB;

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
export function contentTypeOf(name, type) {
  if (type && type !== "application/octet-stream") return type;
  const ext = (name.split(".").pop() || "").toLowerCase();
  return EXTENSION_TYPES[ext] || type || "application/octet-stream";
}

/** The server's part size for a file (uploads.py part_size_for): Uppy must cut the same parts,
 * since each part URL is signed for its exact Content-Length. */
export function partSizeFor(size, limits) {
  return Math.max(limits.multipart_part_bytes, 5 * MIB, Math.ceil(size / limits.max_parts));
}

/** The media id inside a server-made key: uploads/{kind}/{owner}/{media_id}/original.{ext}. */
export function mediaIdOf(key) {
  const match = /^uploads\/[a-z]+\/[^/]+\/([0-9a-f]{32})\/original\.[a-z0-9]+$/.exec(key || "");
  return match ? match[1] : null;
}

/**
 * An Uppy instance bound to the API at `base` (same origin by default), with the token from
 * `token()`. `limits` is GET /uploads/limits. Starts uploading as soon as a file is added.
 */
export function createUploader({ base = "", token, limits }) {
  const uppy = new Uppy({
    id: "media-pipeline",
    autoProceed: true,
    allowMultipleUploadBatches: true,
    onBeforeFileAdded: (file) => {
      const type = contentTypeOf(file.name, file.type);
      // Uppy does not send a file's size: the API needs it (metadata.size) for limits and parts.
      return { ...file, type, meta: { ...file.meta, type, size: file.data.size } };
    },
  });
  uppy.use(AwsS3, {
    id: "AwsS3",
    endpoint: base || window.location.origin,
    headers: { Authorization: `Bearer ${token()}` },
    shouldUseMultipart: (file) => file.size > limits.multipart_threshold_bytes,
    getChunkSize: (file) => partSizeFor(file.size, limits),
    allowedMetaFields: ["size", "entity_type", "entity_id", "visibility", "tags", "alt_text", "caption"],
  });
  uppy.use(GoldenRetriever, {
    serviceWorker: false,
    indexedDB: { maxFileSize: KEEP_FOR_RESUME_BYTES, maxTotalSize: 4 * KEEP_FOR_RESUME_BYTES },
  });
  return {
    uppy,
    setToken(value) {
      uppy.getPlugin("AwsS3").setOptions({ headers: { Authorization: `Bearer ${value}` } });
    },
  };
}

/** A readable reason for an Uppy upload error: the API's own message for a refusal. */
export function uploadErrorText(error) {
  if (!error) return "upload failed";
  if (error.isAuthError) return "Signed out: your session expired or is not valid";
  const text = String(error.message || error).split("; allowed:")[0];
  if (error.name === "UserFacingApiError") return text;
  const source = error.source || (error.cause && error.cause.source);
  if (source && typeof source.status === "number" && source.status) {
    const match = /<Message>([^<]*)<\/Message>/.exec(source.responseText || "");
    return `the bucket refused the upload: ${match ? match[1] : `HTTP ${source.status}`}`;
  }
  return text;
}

/** True when the API refused the upload before any byte was sent (type, size, quota, rules). */
export function isRefusal(error) {
  return Boolean(error && (error.name === "UserFacingApiError" || error.isAuthError));
}
