// The shotline dashboard: talks to /api/v1 with the session cookie, sends the CSRF token on
// every mutation, and follows /api/v1/events for live changes. Pages are chosen by the URL
// hash (#/shots, #/render, #/shot/CODE); other scripts register more pages in
// `shotline.pages` (a function given the section element and the rest of the hash).
"use strict";
const STATES = ["TODO", "WIP", "REVIEW", "RETAKE", "APPROVED", "FINAL", "OMIT"];
/** Rows in the first grid request (shown at once); the rest come in a second request and are
 * drawn GRID_CHUNK rows per task, so the page stays responsive while they arrive. */
const GRID_FIRST = 200;
const GRID_CHUNK = 500;
/** Grids with more rows than this keep only the rows near the viewport in the page (plus
 * OVERSCAN above and below), with spacer rows standing in for the rest: building 10,000 rows
 * of cells is what made a large grid slow to open, not fetching it. */
const GRID_WINDOW = 1000;
const OVERSCAN = 30;
let csrf = null;
let events = null;
let steps = [];
let gridToken = 0;
/** Every row of the grid shown, in order (the page may hold only some of them). */
let gridData = [];
let windowed = false;
let rowPx = 0;
let drawn = { from: -1, to: -1 };

const $ = (id) => document.getElementById(id);
const el = (tag, props = {}, ...kids) => {
  const e = Object.assign(document.createElement(tag), props);
  for (const k of kids) e.append(k);
  return e;
};

async function api(method, path, body) {
  const headers = { "Accept": "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && csrf) headers["X-CSRF-Token"] = csrf;
  const res = await fetch("/api/v1" + path, {
    method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 204) return null;
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    const err = new Error((data.error && data.error.message) || res.statusText);
    err.status = res.status;
    if (res.status === 401 && csrf) loggedOut();
    throw err;
  }
  return data;
}

// Shared with page scripts (shot page, asset library).
window.shotline = { api, el, $, pages: {}, states: STATES };

// ---- pages ----------------------------------------------------------------------------------

function route() {
  if (!csrf) return;
  const hash = location.hash || "#/shots";
  const [, page, ...rest] = hash.split("/");
  const custom = window.shotline.pages[page];
  const name = custom ? "page" : (page === "render" ? "render" : "shots");
  for (const id of ["login", "shots", "render", "page"]) $(id).hidden = id !== name;
  for (const a of document.querySelectorAll("nav a[data-page]")) {
    if (a.dataset.page === page || (!custom && name === "shots" && a.dataset.page === "shots")) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  if (custom) custom($("page"), rest.map(decodeURIComponent));
  if (name === "render") loadJobs();
}

async function start() {
  try {
    loggedIn(await api("GET", "/session"));
  } catch (e) {
    loggedOut();
  }
}

function loggedOut() {
  csrf = null;
  if (events) events.close();
  $("nav").hidden = true;
  for (const id of ["shots", "render", "page"]) $(id).hidden = true;
  $("login").hidden = false;
  $("login-user").focus();
}

async function loggedIn(s) {
  csrf = s.csrf;
  $("who").textContent = `${s.user} (${s.role})`;
  $("nav").hidden = false;
  $("login").hidden = true;
  const p = await api("GET", "/project");
  $("project").textContent = p.project.code;
  route();
  listen();
  await loadGrid();
}

// ---- the shot grid --------------------------------------------------------------------------

function gridQuery(extra) {
  const q = new URLSearchParams();
  const f = { q: $("search").value.trim(), sequence: $("f-sequence").value, status: $("f-status").value,
    assignee: $("f-assignee").value, tag: $("f-tag").value };
  for (const [k, v] of Object.entries({ ...f, ...extra })) if (v) q.set(k, v);
  return q.toString();
}

/** Loads the grid: the first rows show before the rest arrive. A newer load (a filter change)
 * abandons an older one. */
async function loadGrid() {
  const token = ++gridToken;
  const started = performance.now();
  let page = await api("GET", "/shots?" + gridQuery({ limit: GRID_FIRST }));
  if (token !== gridToken) return;
  steps = page.steps;
  drawHead();
  fillFacets(page.facets);
  const total = page.total;
  $("grid").setAttribute("aria-rowcount", String(total + 1));
  gridData = page.shots.slice();
  windowed = total > GRID_WINDOW;
  drawn = { from: -1, to: -1 };
  const body = $("grid").tBodies[0];
  if (windowed) drawWindow(true);
  else body.replaceChildren(...gridData.map((r, i) => row(r, i)));
  $("count").textContent = `${gridData.length} of ${total} shots`;
  while (page.next_cursor) {
    page = await api("GET", "/shots?" + gridQuery({ cursor: page.next_cursor }));
    if (token !== gridToken) return;
    if (windowed) {
      for (const r of page.shots) gridData.push(r);
      drawWindow(true);
      $("count").textContent = `${gridData.length} of ${total} shots`;
      continue;
    }
    for (let i = 0; i < page.shots.length; i += GRID_CHUNK) {
      // Yield to the browser between chunks (a task, not an animation frame: frames are
      // throttled in background tabs).
      await new Promise((r) => setTimeout(r, 0));
      if (token !== gridToken) return;
      const chunk = page.shots.slice(i, i + GRID_CHUNK);
      for (const r of chunk) gridData.push(r);
      body.append(...chunk.map((r, k) => row(r, gridData.length - chunk.length + k)));
      $("count").textContent = `${gridData.length} of ${total} shots`;
    }
  }
  // Read by the browser test and the benchmark (no timing is asserted).
  document.body.dataset.gridMs = String(Math.round(performance.now() - started));
  document.body.dataset.gridRows = String(gridData.length);
}

/** Draws the rows of a windowed grid that are near the viewport, between two spacer rows whose
 * heights stand for the rows above and below, so the scrollbar and every row's position are
 * those of the whole grid. Keeps keyboard focus on the element that had it. */
function drawWindow(force) {
  const body = $("grid").tBodies[0];
  if (!rowPx) {
    if (!gridData.length) return;
    const probe = row(gridData[0], 0);
    body.replaceChildren(probe);
    rowPx = probe.getBoundingClientRect().height || 58;
  }
  const top = body.getBoundingClientRect().top + window.scrollY;
  const viewTop = Math.max(0, window.scrollY - top);
  const from = Math.max(0, Math.floor(viewTop / rowPx) - OVERSCAN);
  const to = Math.min(gridData.length, Math.ceil((viewTop + window.innerHeight) / rowPx) + OVERSCAN);
  if (!force && from === drawn.from && to === drawn.to) return;
  const focused = document.activeElement && body.contains(document.activeElement) ? document.activeElement.id : null;
  const rows = [];
  for (let i = from; i < to; i++) rows.push(row(gridData[i], i));
  body.replaceChildren(spacer(from * rowPx), ...rows, spacer((gridData.length - to) * rowPx));
  drawn = { from, to };
  if (focused && $(focused)) $(focused).focus({ preventScroll: true });
}

function spacer(px) {
  const td = el("td", { colSpan: steps.length + 1 });
  td.style.height = `${px}px`;
  const tr = el("tr", { className: "spacer" }, td);
  tr.setAttribute("aria-hidden", "true");
  return tr;
}

let windowQueued = false;
function scrolled() {
  if (!windowed || windowQueued) return;
  windowQueued = true;
  requestAnimationFrame(() => { windowQueued = false; drawWindow(false); });
}

function drawHead() {
  const head = el("tr", {}, el("th", { textContent: "Shot", scope: "col", className: "shot" }),
    ...steps.map((s) => el("th", { textContent: s.code, title: s.name, scope: "col" })));
  $("grid").tHead.replaceChildren(head);
}

function fillFacets(f) {
  const fill = (id, values) => {
    const sel = $(id);
    const keep = sel.value;
    sel.replaceChildren(el("option", { value: "", textContent: "all" }),
      ...values.map((v) => el("option", { value: v, textContent: v })));
    sel.value = values.includes(keep) ? keep : "";
  };
  fill("f-sequence", f.sequences);
  fill("f-assignee", f.assignees);
  fill("f-tag", f.tags);
  if ($("f-status").options.length === 1) fill("f-status", STATES);
}

function row(r, index) {
  const tr = el("tr", { id: "shot-" + r.code });
  if (index !== undefined) tr.setAttribute("aria-rowindex", String(index + 2));
  const link = el("a", { href: `#/shot/${encodeURIComponent(r.code)}`, textContent: r.code });
  tr.append(el("th", { scope: "row", title: r.name || "", className: "shot" }, link,
    el("span", { className: "seq", textContent: r.sequence || "" })));
  for (const st of steps) tr.append(cell(r.code, st.code, r.steps[st.code]));
  return tr;
}

/** A cell shows its state as a button (cheap for 10,000 rows); activating it (click, Enter,
 * Space) swaps in the status menu, focused, and leaving the menu swaps the button back. */
function cell(shot, step, c) {
  const thumb = el("span", { className: "thumb" });
  if (c.latest && c.latest.has_thumbnail) {
    thumb.append(el("img", { src: `/api/v1/versions/${c.latest.id}/thumbnail`, loading: "lazy",
      alt: `${shot} ${step} ${c.latest.label}`, width: 64, height: 36 }));
  }
  const ver = el("span", { className: "ver", textContent: c.latest ? c.latest.label : "" });
  const td = el("td", { className: "cell " + c.state }, thumb, stateButton(shot, step, c.state), ver);
  td.dataset.step = step;
  return td;
}

function stateButton(shot, step, state) {
  const b = el("button", { type: "button", className: "state", id: `status-${shot}-${step}`,
    textContent: state, ariaLabel: `${shot} ${step} status ${state}: change` });
  b.addEventListener("click", () => {
    const sel = el("select", { ariaLabel: `${shot} ${step} status`, id: b.id });
    for (const s of STATES) sel.append(el("option", { value: s, textContent: s, selected: s === state }));
    sel.dataset.shown = state;
    sel.addEventListener("change", () => changeStatus(shot, step, sel));
    sel.addEventListener("blur", () => {
      if (sel.isConnected) sel.replaceWith(stateButton(shot, step, sel.value));
    });
    b.replaceWith(sel);
    sel.focus();
  });
  return b;
}

// `if_state` is the state this cell showed: if someone changed it meanwhile the server refuses
// (409) and the row is redrawn with what they set, instead of their decision being overwritten.
async function changeStatus(shot, step, sel) {
  const td = sel.parentElement;
  try {
    const r = await api("PUT", `/shots/${encodeURIComponent(shot)}/steps/${encodeURIComponent(step)}/status`,
      { state: sel.value, if_state: sel.dataset.shown });
    sel.dataset.shown = r.status.state;
    $("message").textContent = `${shot} ${step}: ${r.status.state}`;
    if (td) td.className = "cell " + r.status.state;
    const known = gridData.find((g) => g.code === shot);
    if (known && known.steps[step]) known.steps[step].state = r.status.state;
  } catch (e) {
    $("message").textContent = `${shot} ${step}: ${e.message}`;
    await refreshShot(shot);
  }
}

/** Redraws one shot's row from the server (after a live event), keeping the rest. */
async function refreshShot(code) {
  const index = gridData.findIndex((g) => g.code === code);
  if (index < 0) return;
  const page = await api("GET", "/shots?" + new URLSearchParams({ q: code, limit: 50 }));
  const r = page.shots.find((s) => s.code === code);
  if (!r) return;
  gridData[index] = r;
  const old = $("shot-" + code);
  if (!old) return;
  const focused = document.activeElement && old.contains(document.activeElement) ? document.activeElement.id : null;
  old.replaceWith(row(r, index));
  if (focused && $(focused)) $(focused).focus();
}

// ---- the render queue -----------------------------------------------------------------------

let openJob = null;
let openLog = null;
const jobRows = new Map();

async function loadJobs() {
  drawJobs((await api("GET", "/render/jobs" + ($("jobs-all").checked ? "?all=true" : ""))).jobs);
}

function bar(label, value) {
  return el("progress", { max: 1, value: value || 0, ariaLabel: label, textContent: `${Math.round((value || 0) * 100)}%` });
}

function button(text, label, onClick) {
  const b = el("button", { type: "button", textContent: text, ariaLabel: label });
  b.addEventListener("click", onClick);
  return b;
}

/** Updates job rows in place (progress bars move without redrawing, focus stays put). */
function drawJobs(jobs) {
  const body = $("jobs").tBodies[0];
  const seen = new Set();
  for (const j of jobs) {
    seen.add(j.id);
    let r = jobRows.get(j.id);
    if (!r) {
      r = {
        tr: el("tr", { id: "job-" + j.id }),
        state: el("td"), frames: el("td"), progress: bar(`job ${j.id} progress`, 0),
      };
      r.tr.append(el("td", { className: "num", textContent: j.id }), el("td", { textContent: j.name }),
        r.state, r.frames, el("td", { className: "bar" }, r.progress),
        el("td", { className: "actions" },
          button("Tasks", `job ${j.id} tasks`, () => showJob(j.id)),
          button("Cancel", `cancel job ${j.id}`, () => control(j.id, "cancel")),
          button("Retry", `retry job ${j.id}`, () => control(j.id, "retry"))));
      jobRows.set(j.id, r);
    }
    r.state.textContent = j.state;
    r.frames.textContent = `${j.frames_done}/${j.frame_count}`;
    r.progress.value = j.progress;
    r.progress.textContent = `${Math.round(j.progress * 100)}%`;
    body.append(r.tr);
  }
  for (const [id, r] of jobRows) if (!seen.has(id)) { r.tr.remove(); jobRows.delete(id); }
  if (openJob !== null && seen.has(openJob)) showJob(openJob, true);
}

async function control(id, action) {
  try {
    const r = await api("POST", `/render/jobs/${id}/${action}`);
    $("render-message").textContent = `job ${id}: ${action} done (${r.state})`;
    await loadJobs();
  } catch (e) {
    $("render-message").textContent = `job ${id}: ${e.message}`;
  }
}

let jobTimer = null;
/** Shows a job's tasks; live refreshes are throttled to one request at a time. */
async function showJob(id, live) {
  if (live) {
    if (jobTimer) return;
    jobTimer = setTimeout(() => { jobTimer = null; }, 300);
  }
  openJob = id;
  const d = (await api("GET", `/render/jobs/${id}`)).job;
  $("job-detail").hidden = false;
  $("job-title").textContent = `Job ${d.id} ${d.name}: ${d.state}`;
  const body = $("tasks").tBodies[0];
  const rows = d.task_list.map((t) => {
    const existing = $(`task-${id}-${t.index}`);
    const tr = existing || el("tr", { id: `task-${id}-${t.index}` });
    if (!existing) {
      tr.append(el("td", { className: "num", textContent: t.index }), el("td", { textContent: t.frames }),
        el("td"), el("td", { className: "num" }), el("td", { className: "bar" }, bar(`task ${t.index} progress`, 0)),
        el("td"), el("td", { className: "actions" }, button("Log", `task ${t.index} log`, () => showLog(id, t.index))));
    }
    const c = tr.children;
    c[2].textContent = t.state;
    c[3].textContent = t.attempts;
    c[4].firstChild.value = t.progress;
    c[5].textContent = t.message || "";
    return tr;
  });
  body.replaceChildren(...rows);
  if (openLog && openLog.job === id) showLog(id, openLog.task);
}

async function showLog(job, task) {
  openLog = { job, task };
  const l = await api("GET", `/render/jobs/${job}/tasks/${task}/log?tail=65536`);
  $("log-title").textContent = `Task ${task} log` + (l.attempt ? ` (attempt ${l.attempt})` : "") + (l.truncated ? ", last part" : "");
  const pre = $("log");
  const atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
  pre.textContent = l.text;
  if (atEnd) pre.scrollTop = pre.scrollHeight;
}

// ---- live updates ---------------------------------------------------------------------------

function listen() {
  if (events) events.close();
  events = new EventSource("/api/v1/events");
  const shotOf = (e) => {
    try { return String(JSON.parse(e.data).entity || "").split(" ")[0]; } catch (_) { return ""; }
  };
  const one = (e) => { const code = shotOf(e); if (code) refreshShot(code); };
  events.addEventListener("status", one);
  events.addEventListener("version", one);
  events.addEventListener("resync", () => { loadGrid(); loadJobs(); });
  events.addEventListener("render", (e) => drawJobs(JSON.parse(e.data).jobs));
}

// ---- start ----------------------------------------------------------------------------------

document.addEventListener("DOMContentLoaded", () => {
  $("login-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    $("login-error").textContent = "";
    try {
      const s = await api("POST", "/login", { user: $("login-user").value, password: $("login-password").value });
      $("login-password").value = "";
      await loggedIn(s);
    } catch (e) {
      $("login-error").textContent = e.message;
    }
  });
  $("logout").addEventListener("click", async () => {
    try { await api("POST", "/logout"); } finally { loggedOut(); }
  });
  let typing = null;
  $("search").addEventListener("input", () => { clearTimeout(typing); typing = setTimeout(loadGrid, 200); });
  window.addEventListener("scroll", scrolled, { passive: true });
  window.addEventListener("resize", () => { if (windowed) { rowPx = 0; drawWindow(true); } });
  $("filters").addEventListener("submit", (ev) => { ev.preventDefault(); loadGrid(); });
  for (const id of ["f-sequence", "f-status", "f-assignee", "f-tag"]) $(id).addEventListener("change", loadGrid);
  $("jobs-all").addEventListener("change", loadJobs);
  window.addEventListener("hashchange", route);
  start();
});
