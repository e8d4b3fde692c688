// The upload page: dev sign-in, drag-and-drop / picked uploads with progress and live status,
// the user's gallery (filters, cursor pagination, delete, duplicate hints). No build step.
import { Api, ApiError, describe } from "./api.js";
import { blurhashCanvas } from "./blurhash.js";
import { attachPlayer, attachStoryboard } from "./player.js";
import { contentTypeOf, transfer } from "./upload.js";

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
  loadGallery(true);
}

function signOut(message) {
  session = null;
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
  if (view.kind === "image") {
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
async function uploadOne(file) {
  const card = newCard(file.name, "u");
  const type = contentTypeOf(file);
  $(".meta-line", card).textContent = `${type} · ${formatBytes(file.size)}`;
  setStatus(card, "uploading", "");
  setProgress(card, 0);
  const controller = new AbortController();
  const cancel = document.createElement("button");
  cancel.type = "button";
  cancel.className = "secondary";
  cancel.textContent = "Cancel";
  cancel.setAttribute("aria-label", `Cancel upload of ${file.name}`);
  cancel.addEventListener("click", () => controller.abort());
  $(".actions", card).append(cancel);
  ui.uploads.prepend(card);

  let created;
  try {
    created = await api.createUpload({ filename: file.name, content_type: type, size: file.size });
  } catch (err) {
    $(".progress-row", card).hidden = true;
    cancel.remove();
    setStatus(card, "refused", describe(err));
    announce(`${file.name} refused: ${describe(err)}`);
    return;
  }
  card.dataset.mediaId = created.media_id;
  setStatus(card, created.status, "");
  try {
    await transfer(created, file, {
      onProgress: (sent) => setProgress(card, file.size ? sent / file.size : 1),
      complete: (parts) => api.completeUpload(created.media_id, parts),
      signal: controller.signal,
    });
  } catch (err) {
    cancel.remove();
    setStatus(card, controller.signal.aborted ? "refused" : "failed", controller.signal.aborted ? "cancelled" : describe(err));
    api.abortUpload(created.media_id).catch(() => {});
    announce(`${file.name}: upload ${controller.signal.aborted ? "cancelled" : "failed"}`);
    return;
  }
  cancel.remove();
  setProgress(card, 1);
  announce(`${file.name} uploaded, processing`);
  const view = await watch(card, created.media_id);
  if (view) addToGallery(view);
}

function uploadAll(files) {
  if (!session) {
    notify("You are signed out: sign in to upload.");
    return;
  }
  notify("");
  for (const file of files) uploadOne(file);
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
if (session) loadGallery(true);
else ui.galleryStatus.textContent = "Sign in to see your gallery.";
document.body.dataset.ready = "1";
