// The upload page: dev sign-in, drag-and-drop / picked uploads with progress and live status,
// the user's gallery (filters, cursor pagination, delete, duplicate hints). No build step.
import { Api, ApiError, describe } from "./api.js";
import { blurhashCanvas } from "./blurhash.js";
import { attachPlayer, attachStoryboard } from "./player.js";
import { createUploader, isRefusal, mediaIdOf, uploadErrorText } from "./upload.js";

const SESSION_KEY = "media-pipeline.session";
const FINAL = new Set(["ready", "failed", "deleted"]);
const STATUS_TEXT = {
  awaiting_upload: "awaiting_upload",
  uploading: "awaiting_upload",
  processing: "processing",
  ready: "ready",
  failed: "failed",
  refused: "refused",
  deleted: "deleted",
};
const PAGE_SIZE = 12;

const $ = (selector, root = document) => root.querySelector(selector);
const api = new Api("");
const ui = {
  signIn: $("#sign-in"),
  signedIn: $("#signed-in"),
  who: $("#who"),
  signOut: $("#sign-out"),
  announcer: $("#announcer"),
  notice: $("#notice"),
  dropZone: $("#drop-zone"),
  fileInput: $("#file-input"),
  pick: $("#pick-button"),
  uploads: $("#uploads"),
  gallery: $("#gallery"),
  galleryStatus: $("#gallery-status"),
  filters: $("#filters"),
  loadMore: $("#load-more"),
  refresh: $("#refresh"),
  template: $("#card-template"),
};
const gallery = { next: null, loading: false, available: true, generation: 0 };
let session = null;
let uploader = null; // Uppy, created once signed in (it needs the token and the API's limits)
const cards = new Map(); // Uppy file id -> card

// ------------------------------------------------------------------ messages
function announce(text) {
  ui.announcer.textContent = "";
  // A fresh text node each time so screen readers repeat identical messages.
  requestAnimationFrame(() => (ui.announcer.textContent = text));
}

function notify(text) {
  ui.notice.textContent = text;
  ui.notice.hidden = !text;
}

// ------------------------------------------------------------------ sign-in
function loadSession() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(SESSION_KEY) || "null");
    if (saved && saved.token && saved.expires_at > Date.now() + 5000) return saved;
  } catch {
    /* a corrupt entry is the same as none */
  }
  sessionStorage.removeItem(SESSION_KEY);
  return null;
}

function showSession() {
  const signedIn = Boolean(session);
  api.token = signedIn ? session.token : null;
  ui.signIn.hidden = signedIn;
  ui.signedIn.hidden = !signedIn;
  ui.who.textContent = signedIn ? `${session.username}${session.admin ? " (admin)" : ""}` : "";
  ui.pick.disabled = !signedIn;
  ui.dropZone.dataset.state = signedIn ? "signed-in" : "signed-out";
  ui.refresh.disabled = !signedIn;
  ui.filters.querySelector("button").disabled = !signedIn;
}

async function signIn(event) {
  event.preventDefault();
  const username = $("#username").value.trim();
  const admin = $("#admin").checked;
  try {
    const answer = await api.signIn(username, admin);
    session = {
      token: answer.id_token,
      username: answer.username,
      admin: answer.admin,
      expires_at: Date.now() + answer.expires_in * 1000,
    };
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  } catch (err) {
    notify(`Sign-in refused: ${describe(err)}`);
    return;
  }
  notify("");
  showSession();
  announce(`Signed in as ${session.username}`);
  ui.pick.focus();
  startUploader();
  loadGallery(true);
}

function signOut(message) {
  session = null;
  if (uploader) uploader.uppy.cancelAll();
  sessionStorage.removeItem(SESSION_KEY);
  showSession();
  ui.gallery.replaceChildren();
  ui.loadMore.hidden = true;
  ui.galleryStatus.textContent = "Sign in to see your gallery.";
  announce(message || "Signed out");
  $("#username").focus();
}

api.onUnauthorized = () => {
  if (!session) return;
  signOut("Signed out: your session expired or is not valid");
  notify("You are signed out (your token expired or is not valid). Sign in again.");
};

// ------------------------------------------------------------------ cards
function formatBytes(bytes) {
  if (bytes == null) return "";
  const units = ["B", "KB", "MB", "GB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit ? 1 : 0)} ${units[unit]}`;
}

function newCard(name, idPrefix) {
  const li = ui.template.content.firstElementChild.cloneNode(true);
  li.dataset.idPrefix = idPrefix;
  $(".name", li).textContent = name;
  return li;
}

function setProgress(card, fraction) {
  const percent = Math.max(0, Math.min(100, Math.round(fraction * 100)));
  const bar = $("progress", card);
  bar.value = percent;
  bar.setAttribute("aria-label", `Upload of ${$(".name", card).textContent}: ${percent} %`);
  $(".percent", card).textContent = `${percent} %`;
  card.dataset.progress = String(percent);
}

function setStatus(card, status, reason) {
  card.dataset.status = status;
  $(".badge", card).textContent = STATUS_TEXT[status] || status;
  $(".reason", card).textContent = reason || "";
}

function thumbnailFor(view) {
  const v = view.variants || {};
  switch (view.kind) {
    case "video":
      return v.poster_small || v.poster_thumbnail || v.poster;
    case "audio":
      return v.cover_small || v.cover_thumbnail;
    default:
      return v.small || v.thumbnail || v.medium;
  }
}

function imageElement(view, className) {
  const v = view.variants;
  const img = document.createElement("img");
  img.className = className;
  img.decoding = "async";
  img.alt = view.alt_text || `${view.kind === "document" ? "First page of " : ""}${view.original.filename}`;
  if (view.kind === "image" && view.srcset && view.srcset.length) {
    // Signed on-demand renditions from the CDN (format=auto: AVIF/WebP/JPEG by Accept).
    img.srcset = view.srcset.map((entry) => `${entry.url} ${entry.width}w`).join(", ");
    img.sizes = "(max-width: 480px) 100vw, 320px";
  } else if (view.kind === "image") {
    const set = ["thumbnail", "small", "medium", "large"]
      .filter((name) => v[name] && v[name].width && name !== "thumbnail")
      .map((name) => `${v[name].url} ${v[name].width}w`);
    if (set.length) {
      img.srcset = set.join(", ");
      img.sizes = "(max-width: 480px) 100vw, 320px";
    }
  }
  const source = view.kind === "document" ? v.medium || v.small || v.thumbnail : thumbnailFor(view);
  img.src = source.url;
  img.addEventListener("load", () => img.classList.add("loaded"), { once: true });
  return img;
}

function renderPreview(card, view) {
  const preview = $(".preview", card);
  preview.className = "preview";
  preview.replaceChildren();
  const v = view.variants || {};
  if (view.status !== "ready") {
    const label = document.createElement("span");
    label.className = "kind-label";
    label.setAttribute("aria-hidden", "true");
    label.textContent = view.kind;
    preview.append(label);
    return;
  }
  if (view.kind === "image" && thumbnailFor(view)) {
    const canvas = blurhashCanvas(view.metadata && view.metadata.blurhash);
    if (canvas) preview.append(canvas);
    preview.append(imageElement(view, "thumb"));
  } else if (view.kind === "video" && v.mp4) {
    const video = document.createElement("video");
    video.controls = true;
    video.preload = "none";
    video.playsInline = true;
    if (v.poster) video.poster = v.poster.url;
    video.setAttribute("aria-label", `Video: ${view.original.filename}`);
    preview.append(video);
    attachPlayer(video, view, api);
    attachStoryboard(video, view, api).catch(() => {});
  } else if (view.kind === "audio" && v.mp3) {
    preview.classList.add("audio");
    if (thumbnailFor(view)) preview.append(imageElement(view, "thumb"));
    const audio = document.createElement("audio");
    audio.controls = true;
    audio.preload = "none";
    audio.src = v.mp3.url;
    audio.setAttribute("aria-label", `Audio: ${view.original.filename}`);
    preview.append(audio);
  } else if (view.kind === "document" && (v.medium || v.small || v.thumbnail)) {
    preview.classList.add("pdf");
    preview.append(imageElement(view, "page"));
  } else {
    const label = document.createElement("span");
    label.className = "kind-label";
    label.textContent = view.kind;
    preview.append(label);
  }
}

const METADATA_SKIP = new Set(["waveform", "blurhash", "phash", "phash_bands"]);

function metadataRows(metadata, prefix = "") {
  const rows = [];
  for (const [key, value] of Object.entries(metadata || {})) {
    if (METADATA_SKIP.has(key) || value == null) continue;
    if (Array.isArray(value)) continue;
    if (typeof value === "object") rows.push(...metadataRows(value, `${prefix}${key}.`));
    else rows.push([`${prefix}${key}`, typeof value === "number" ? +value.toFixed(3) : String(value)]);
  }
  return rows;
}

function renderDetails(card, view) {
  const v = view.variants || {};
  const line = [view.kind, formatBytes(view.original && view.original.size)];
  if (view.metadata && view.metadata.width) line.push(`${view.metadata.width}×${view.metadata.height}`);
  const seconds = view.metadata && Number(view.metadata.duration_s);
  if (Number.isFinite(seconds) && seconds > 0) line.push(`${seconds.toFixed(1)} s`);
  if (view.created_at) line.push(new Date(view.created_at).toLocaleString());
  $(".meta-line", card).textContent = line.filter(Boolean).join(" · ");

  const variants = $(".variants", card);
  const list = $("ul", variants);
  list.replaceChildren();
  for (const [name, variant] of Object.entries(v)) {
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.href = variant.url;
    link.target = "_blank";
    link.rel = "noopener";
    link.textContent = name;
    const size = variant.width ? `${variant.width}×${variant.height}, ` : "";
    item.append(link, ` — ${size}${variant.content_type}, ${formatBytes(variant.bytes)}`);
    list.append(item);
  }
  variants.hidden = !list.children.length;
  $("summary", variants).textContent = `Variants (${list.children.length})`;

  const metadata = $(".metadata", card);
  const dl = $("dl", metadata);
  dl.replaceChildren();
  for (const [key, value] of metadataRows(view.metadata)) {
    const dt = document.createElement("dt");
    dt.textContent = key;
    const dd = document.createElement("dd");
    dd.textContent = value;
    dl.append(dt, dd);
  }
  metadata.hidden = !dl.children.length;

  const duplicates = $(".duplicates", card);
  duplicates.replaceChildren();
  const ids = view.duplicate_of || [];
  duplicates.hidden = !ids.length;
  if (ids.length) {
    duplicates.append(`Possible duplicate of ${ids.length === 1 ? "an earlier upload" : `${ids.length} earlier uploads`}: `);
    ids.forEach((id, i) => {
      const link = document.createElement("a");
      link.href = `#g-${id}`;
      link.textContent = id.slice(0, 8);
      link.title = id;
      duplicates.append(i ? ", " : "", link);
    });
  }
}

/** Fill a card from a MediaView. */
function renderCard(card, view) {
  card.dataset.mediaId = view.media_id;
  card.dataset.kind = view.kind;
  card.id = `${card.dataset.idPrefix}-${view.media_id}`;
  $(".name", card).textContent = view.original ? view.original.filename : view.media_id;
  setStatus(card, view.status, view.status === "failed" ? view.failure_reason || "processing failed" : "");
  renderPreview(card, view);
  renderDetails(card, view);
}

/** Poll GET /media/{id} until the record settles; render each change. */
async function watch(card, mediaId, { timeoutMs = 15 * 60 * 1000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let delay = 400;
  let last = "";
  while (Date.now() < deadline && card.isConnected && session) {
    let view;
    try {
      view = await api.getMedia(mediaId);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return null;
      if (err instanceof ApiError && err.status === 404) {
        setStatus(card, "deleted", "");
        return null;
      }
      await new Promise((r) => setTimeout(r, delay));
      continue;
    }
    if (view.status !== last) {
      last = view.status;
      renderCard(card, view);
      if (FINAL.has(view.status)) {
        const name = view.original.filename;
        announce(view.status === "failed" ? `${name} failed: ${view.failure_reason}` : `${name} is ${view.status}`);
        return view;
      }
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(2000, delay * 1.3);
  }
  return null;
}

// ------------------------------------------------------------------ uploads
function button(text, label, onClick, className = "secondary") {
  const b = document.createElement("button");
  b.type = "button";
  b.className = className;
  b.textContent = text;
  b.setAttribute("aria-label", label);
  b.addEventListener("click", onClick);
  return b;
}

/** The card of an Uppy file: progress, status, and Pause/Resume, Retry and Cancel while uploading. */
function cardFor(file) {
  let card = cards.get(file.id);
  if (card && card.isConnected) return card;
  card = newCard(file.name, "u");
  card.dataset.fileId = file.id;
  $(".meta-line", card).textContent = `${file.type} · ${formatBytes(file.size)}`;
  setStatus(card, "uploading", "");
  setProgress(card, 0);
  const actions = $(".actions", card);
  const multipart = uploader.uppy.getPlugin("AwsS3").opts.shouldUseMultipart(file);
  if (multipart) {
    const pause = button("Pause", `Pause upload of ${file.name}`, () => {
      const paused = uploader.uppy.pauseResume(file.id);
      pause.textContent = paused ? "Resume" : "Pause";
      pause.setAttribute("aria-label", `${paused ? "Resume" : "Pause"} upload of ${file.name}`);
      card.dataset.paused = paused ? "1" : "";
      announce(`${file.name}: upload ${paused ? "paused" : "resumed"}`);
    });
    pause.classList.add("pause");
    actions.append(pause);
  }
  const retry = button("Retry", `Retry upload of ${file.name}`, () => {
    retry.hidden = true;
    setStatus(card, "uploading", "");
    uploader.uppy.retryUpload(file.id);
  });
  retry.classList.add("retry");
  retry.hidden = true;
  const cancel = button("Cancel", `Cancel upload of ${file.name}`, () => {
    uploader.uppy.removeFile(file.id);
    setStatus(card, "refused", "cancelled");
    endUpload(card);
    announce(`${file.name}: upload cancelled`);
  });
  cancel.classList.add("cancel");
  actions.append(retry, cancel);
  ui.uploads.prepend(card);
  cards.set(file.id, card);
  return card;
}

function endUpload(card) {
  for (const b of card.querySelectorAll(".actions .pause, .actions .retry, .actions .cancel")) b.remove();
}

function setUpMediaId(card, key) {
  const mediaId = mediaIdOf(key);
  if (mediaId) card.dataset.mediaId = mediaId;
  return mediaId;
}

function wireUploader() {
  const { uppy } = uploader;
  uppy.on("file-added", (file) => cardFor(file));
  uppy.on("upload-progress", (file, progress) => {
    const card = cardFor(file);
    if (progress.bytesTotal) setProgress(card, progress.bytesUploaded / progress.bytesTotal);
    const state = uppy.getFile(file.id);
    if (state && state.s3Multipart) setUpMediaId(card, state.s3Multipart.key);
  });
  uppy.on("upload-success", async (file, response) => {
    const card = cardFor(file);
    endUpload(card);
    setProgress(card, 1);
    const body = (response && response.body) || {};
    const mediaId = body.media_id || setUpMediaId(card, body.key);
    if (mediaId) card.dataset.mediaId = mediaId;
    announce(`${file.name} uploaded, processing`);
    uppy.removeFile(file.id); // done here: nothing for a reload to resume
    if (!mediaId) return;
    setStatus(card, "awaiting_upload", "");
    const view = await watch(card, mediaId);
    if (view) addToGallery(view);
  });
  uppy.on("upload-error", (file, error) => {
    if (!file) return;
    const card = cardFor(file);
    const reason = uploadErrorText(error);
    if (error && error.isAuthError) api.onUnauthorized(error);
    if (isRefusal(error)) {
      $(".progress-row", card).hidden = true;
      endUpload(card);
      setStatus(card, "refused", reason);
      announce(`${file.name} refused: ${reason}`);
      uppy.removeFile(file.id);
      return;
    }
    setStatus(card, "failed", reason);
    const retry = $(".actions .retry", card);
    if (retry) retry.hidden = false;
    announce(`${file.name}: upload failed: ${reason}`);
  });
  // After a reload: Golden Retriever brought back the unfinished files (and their upload ids).
  uppy.on("restored", () => {
    const files = uppy.getFiles();
    for (const file of files) {
      const card = cardFor(file);
      if (file.isGhost) setStatus(card, "uploading", "interrupted: pick the same file again to resume");
    }
    if (files.length && files.every((f) => !f.isGhost)) {
      announce(`Resuming ${files.length} upload${files.length === 1 ? "" : "s"}`);
      uppy.emit("restore-confirmed");
    }
  });
}

async function startUploader() {
  if (uploader) {
    uploader.setToken(session.token);
    return uploader;
  }
  let limits;
  try {
    limits = await api.request("GET", "/uploads/limits");
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401)) notify(`Uploads are not available: ${describe(err)}`);
    return null;
  }
  if (!session) return null;
  uploader = createUploader({ token: () => session.token, limits });
  wireUploader();
  return uploader;
}

async function uploadAll(files) {
  if (!session) {
    notify("You are signed out: sign in to upload.");
    return;
  }
  notify("");
  const ready = await startUploader();
  if (!ready) return;
  for (const file of files) {
    const ghost = ready.uppy.getFiles().find((f) => f.isGhost && f.name === file.name && f.size === file.size);
    try {
      ready.uppy.addFile({ name: file.name, type: file.type, data: file, source: "page" });
    } catch (err) {
      notify(`${file.name}: ${err.message}`);
      continue;
    }
    if (ghost) ready.uppy.emit("restore-confirmed"); // the picked file brings the ghost back: resume
  }
}

// ------------------------------------------------------------------ gallery
function filters() {
  const data = new FormData(ui.filters);
  return { kind: data.get("kind") || "", status: data.get("status") || "", tag: (data.get("tag") || "").trim() };
}

function deleteButton(card, view) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "danger";
  button.textContent = "Delete";
  button.setAttribute("aria-label", `Delete ${view.original.filename}`);
  let timer = null;
  button.addEventListener("click", async () => {
    if (button.dataset.confirm !== "1") {
      button.dataset.confirm = "1";
      button.textContent = "Confirm delete";
      button.setAttribute("aria-label", `Confirm: delete ${view.original.filename}`);
      announce(`Press again to delete ${view.original.filename}`);
      timer = setTimeout(() => {
        button.dataset.confirm = "";
        button.textContent = "Delete";
        button.setAttribute("aria-label", `Delete ${view.original.filename}`);
      }, 6000);
      return;
    }
    clearTimeout(timer);
    button.disabled = true;
    try {
      await api.deleteMedia(view.media_id);
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 404)) {
        button.disabled = false;
        notify(`Could not delete ${view.original.filename}: ${describe(err)}`);
        return;
      }
    }
    const next = card.nextElementSibling || card.previousElementSibling;
    card.remove();
    for (const other of document.querySelectorAll(`[data-media-id="${view.media_id}"]`)) setStatus(other, "deleted", "");
    announce(`Deleted ${view.original.filename}`);
    (next ? $("button.danger", next) || next : $("#gallery-heading")).focus();
  });
  return button;
}

function galleryCard(view) {
  const card = newCard(view.original.filename, "g");
  renderCard(card, view);
  $(".progress-row", card).hidden = true;
  $(".actions", card).append(deleteButton(card, view));
  if (!FINAL.has(view.status)) watch(card, view.media_id);
  return card;
}

function matchesFilters(view) {
  const f = filters();
  return (!f.kind || f.kind === view.kind) && (!f.status || f.status === view.status) &&
    (!f.tag || (view.tags || []).includes(f.tag));
}

function addToGallery(view) {
  if (!gallery.available || !matchesFilters(view)) return;
  const existing = document.getElementById(`g-${view.media_id}`);
  if (existing) existing.replaceWith(galleryCard(view));
  else ui.gallery.prepend(galleryCard(view));
  ui.galleryStatus.textContent = "";
}

async function loadGallery(reset) {
  if (!session) return;
  if (gallery.loading && !reset) return;
  const generation = ++gallery.generation;
  gallery.loading = true;
  ui.loadMore.disabled = true;
  if (reset) {
    gallery.next = null;
    ui.galleryStatus.textContent = "Loading…";
  }
  try {
    const page = await api.listMedia({ pageSize: PAGE_SIZE, ...filters(), next: reset ? null : gallery.next });
    if (generation !== gallery.generation) return;
    gallery.available = true;
    if (reset) ui.gallery.replaceChildren();
    let first = null;
    for (const view of page.items) {
      if (document.getElementById(`g-${view.media_id}`)) continue;
      const card = galleryCard(view);
      ui.gallery.append(card);
      first = first || card;
    }
    gallery.next = page.next || null;
    ui.loadMore.hidden = !gallery.next;
    const count = ui.gallery.children.length;
    ui.galleryStatus.textContent = count ? `${count} shown${gallery.next ? ", more available" : ""}.` : "Nothing here yet.";
    if (!reset && first) first.focus();
  } catch (err) {
    if (generation !== gallery.generation) return;
    if (err instanceof ApiError && err.status === 403) {
      gallery.available = false;
      ui.galleryStatus.textContent = "This API has no gallery listing (GET /media) yet.";
    } else {
      ui.galleryStatus.textContent = `Could not load the gallery: ${describe(err)}`;
    }
  } finally {
    if (generation === gallery.generation) {
      gallery.loading = false;
      ui.loadMore.disabled = false;
    }
  }
}

// ------------------------------------------------------------------ wiring
ui.signIn.addEventListener("submit", signIn);
ui.signOut.addEventListener("click", () => signOut());
ui.pick.addEventListener("click", () => ui.fileInput.click());
ui.fileInput.addEventListener("change", () => {
  uploadAll([...ui.fileInput.files]);
  ui.fileInput.value = "";
});
for (const type of ["dragenter", "dragover"]) {
  ui.dropZone.addEventListener(type, (event) => {
    event.preventDefault();
    ui.dropZone.dataset.drag = "1";
  });
}
for (const type of ["dragleave", "drop"]) {
  ui.dropZone.addEventListener(type, () => (ui.dropZone.dataset.drag = ""));
}
ui.dropZone.addEventListener("drop", (event) => {
  event.preventDefault();
  uploadAll([...event.dataTransfer.files]);
});
// A file dropped beside the zone must not navigate away from the page.
window.addEventListener("dragover", (event) => event.preventDefault());
window.addEventListener("drop", (event) => event.preventDefault());
ui.filters.addEventListener("submit", (event) => {
  event.preventDefault();
  loadGallery(true);
});
ui.refresh.addEventListener("click", () => loadGallery(true));
ui.loadMore.addEventListener("click", () => loadGallery(false));

session = loadSession();
showSession();
if (session) {
  startUploader(); // a reload resumes unfinished uploads (Golden Retriever)
  loadGallery(true);
}
else ui.galleryStatus.textContent = "Sign in to see your gallery.";
document.body.dataset.ready = "1";
