// Video playback: HLS (adaptive, hls.js from npm, served from /web/vendor/) when the record has a
// stream, else the progressive MP4. Playlists come from GET /media/{id}/hls/{playlist}, which
// returns them with every segment URI signed: only those API requests carry the bearer token (a
// presigned S3 URL must not: S3 refuses a second authentication). Safari plays HLS natively but
// cannot add the header, so there the MP4 is used. The storyboard (WebVTT `sprite.jpg#xywh=` cues)
// becomes a preview strip under the video: hover shows the frame at that time, click seeks.

const HLS_MODULE = "/web/vendor/hls.mjs";
let hlsModule = null;

function loadHls() {
  hlsModule = hlsModule || import(HLS_MODULE).then((m) => m.default);
  return hlsModule;
}

/** The master playlist URL of a ready video with HLS, or null. */
export function streamUrl(view, api) {
  if (view.streaming && view.streaming.hls) return view.streaming.hls;
  if (view.variants && view.variants.hls) return `${api.base || location.origin}/media/${view.media_id}/hls/master.m3u8`;
  return null;
}

function isApiUrl(url, api) {
  const base = new URL(api.base || location.origin, location.href);
  const target = new URL(url, location.href);
  return target.origin === base.origin && target.pathname.startsWith(`${base.pathname.replace(/\/$/, "")}/media/`);
}

/**
 * Make `video` play `view`: HLS through hls.js when possible, else the MP4. Errors hls.js reports
 * as fatal are recorded on `video.dataset.playerError` and fall back to the MP4.
 */
export async function attachPlayer(video, view, api) {
  const mp4 = view.variants && view.variants.mp4 ? view.variants.mp4.url : null;
  const url = streamUrl(view, api);
  video.dataset.player = "mp4";
  if (!url) {
    if (mp4) video.src = mp4;
    return null;
  }
  let Hls;
  try {
    Hls = await loadHls();
  } catch {
    Hls = null;
  }
  if (!Hls || !Hls.isSupported()) {
    if (mp4) video.src = mp4;
    return null;
  }
  const hls = new Hls({
    xhrSetup(xhr, requestUrl) {
      if (api.token && isApiUrl(requestUrl, api)) xhr.setRequestHeader("Authorization", `Bearer ${api.token}`);
    },
  });
  video.dataset.player = "hls";
  hls.on(Hls.Events.ERROR, (_event, data) => {
    video.dataset.hlsErrors = `${video.dataset.hlsErrors || ""}${data.details}${data.fatal ? "(fatal)" : ""};`;
    if (!data.fatal) return;
    video.dataset.playerError = `${data.type}: ${data.details}`;
    hls.destroy();
    video.dataset.player = "mp4";
    if (mp4) video.src = mp4;
  });
  hls.on(Hls.Events.MANIFEST_PARSED, (_event, data) => {
    video.dataset.levels = String(data.levels.length);
  });
  hls.loadSource(url);
  hls.attachMedia(video);
  video.hls = hls;
  return hls;
}

function parseTime(text) {
  const [h, m, s] = text.trim().split(":");
  return Number(h) * 3600 + Number(m) * 60 + Number(s);
}

/** Cues of a storyboard VTT: [{start, end, url, x, y, w, h}]. */
export function parseStoryboard(text) {
  const cues = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i].includes("-->")) continue;
    const [start, end] = lines[i].split("-->").map(parseTime);
    const target = (lines[i + 1] || "").trim();
    const [url, fragment] = target.split("#xywh=");
    if (!fragment) continue;
    const [x, y, w, h] = fragment.split(",").map(Number);
    cues.push({ start, end, url, x, y, w, h });
  }
  return cues;
}

/** A preview strip under `video` from the storyboard (fetched with the token); null without one. */
export async function attachStoryboard(video, view, api) {
  const url = view.streaming && view.streaming.storyboard;
  if (!url) return null;
  const response = await fetch(url, { headers: api.token ? { Authorization: `Bearer ${api.token}` } : {} });
  if (!response.ok) return null;
  const cues = parseStoryboard(await response.text());
  if (!cues.length) return null;
  const strip = document.createElement("div");
  strip.className = "storyboard";
  strip.setAttribute("role", "presentation");
  const tile = document.createElement("div");
  tile.className = "storyboard-tile";
  tile.hidden = true;
  strip.append(tile);
  const duration = cues[cues.length - 1].end;
  const cueAt = (event) => {
    const box = strip.getBoundingClientRect();
    const t = Math.max(0, Math.min(duration, ((event.clientX - box.left) / box.width) * duration));
    return [t, cues.find((c) => t >= c.start && t < c.end) || cues[cues.length - 1]];
  };
  strip.addEventListener("mousemove", (event) => {
    const [, cue] = cueAt(event);
    tile.hidden = false;
    tile.style.width = `${cue.w}px`;
    tile.style.height = `${cue.h}px`;
    tile.style.backgroundImage = `url("${cue.url}")`;
    tile.style.backgroundPosition = `-${cue.x}px -${cue.y}px`;
    tile.style.left = `${Math.max(0, event.clientX - strip.getBoundingClientRect().left - cue.w / 2)}px`;
  });
  strip.addEventListener("mouseleave", () => {
    tile.hidden = true;
  });
  strip.addEventListener("click", (event) => {
    const [t] = cueAt(event);
    video.currentTime = t;
  });
  video.after(strip);
  strip.dataset.cues = String(cues.length);
  return strip;
}
