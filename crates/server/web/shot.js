// The shot page (#/shot/CODE): versions over time per step with frames, missing frames and
// dependencies, the review movie playing in the page, comments, the audit trail, and status
// change / approval (the store checks the role; the CSRF token goes with every change).
// Also the helpers assets.js and ingest.js share: thumbBox, cells, errorLine. Registers
// `shotline.pages.shot` (app.js draws it into #page for #/shot/CODE).
// Uses app.js's api, el, $ and STATES (classic scripts share their top-level names).
"use strict";

// A fixed-size box for a version's thumbnail: the box keeps its size whether the image
// arrives, fails or is still loading, so nothing moves while pictures stream in.
function thumbBox(versionId, alt, extra = "") {
  const box = el("div", { className: "thumb " + extra });
  if (versionId != null) {
    const img = el("img", { src: `/api/v1/versions/${versionId}/thumbnail`, alt, decoding: "async" });
    img.addEventListener("error", () => { img.remove(); box.classList.add("none"); });
    box.append(img);
  } else {
    box.classList.add("none");
  }
  return box;
}

// A table row of text cells (nodes are kept as they are).
function cells(tag, values) {
  return el("tr", {}, ...values.map((v) => el(tag, {}, v instanceof Node ? v : String(v ?? ""))));
}

function errorLine(message) {
  return el("p", { className: "error", role: "alert", textContent: message });
}

window.shotline.pages.shot = async (sec, [code = ""]) => {
  sec.replaceChildren(el("h2", { textContent: `Shot ${code}` }), el("p", { textContent: "Loading…" }));
  try {
    drawShot(sec, code, await api("GET", `/shots/${encodeURIComponent(code)}/history`));
  } catch (e) {
    sec.replaceChildren(el("h2", { textContent: `Shot ${code}` }), errorLine(e.message));
  }
};

function drawShot(sec, code, h) {
  const s = h.shot;
  const head = el("div", { className: "shot-head" },
    el("h2", { textContent: `Shot ${s.code}` }),
    el("span", { textContent: `${s.name || ""} ${s.frame_in}-${s.frame_out}` }),
    el("span", { id: "shot-message", role: "status" }));
  const reviews = h.steps.flatMap((st) => st.versions.filter((v) => v.review != null).map((v) => v.review));
  const newest = reviews.length ? Math.max(...reviews) : null;
  sec.replaceChildren(head,
    el("div", { className: "shot-top" }, player(newest), commentsBox(code, h)),
    ...h.steps.map((st) => stepBox(code, st)),
    auditBox(h.audit));
}

// The review movie in a fixed 16:9 box; `Play` buttons in the version tables swap its source.
function player(reviewId) {
  const box = el("div", { className: "player" });
  const video = el("video", { id: "shot-movie", controls: true, preload: "metadata" });
  if (reviewId != null) video.src = `/api/v1/versions/${reviewId}/review`;
  box.append(video, el("p", { id: "shot-movie-label", textContent: reviewId != null ? `review #${reviewId}` : "No review movie yet" }));
  return box;
}

function play(reviewId) {
  const video = $("shot-movie");
  video.src = `/api/v1/versions/${reviewId}/review`;
  $("shot-movie-label").textContent = `review #${reviewId}`;
  video.focus();
}

function stepBox(code, st) {
  const state = st.status ? st.status.state : "TODO";
  const box = el("section", { className: "step", id: `step-${st.step}`, ariaLabel: `step ${st.step}` });
  box.append(el("h3", { textContent: `${st.step} ${st.name || ""}` }), statusForm(code, st.step, state));
  const table = el("table", { className: "versions" },
    el("thead", {}, cells("th", ["", "Version", "State", "Frames", "Missing", "Size", "Author", "Date", "Uses", "Used by", ""])));
  const body = el("tbody");
  for (const v of [...st.versions].reverse()) {
    const name = v.resource ? `${v.label} ${v.resource}` : v.label;
    const playBtn = v.review != null
      ? el("button", { type: "button", textContent: "Play", ariaLabel: `play review of ${st.step} ${name}` })
      : "";
    if (playBtn) playBtn.addEventListener("click", () => play(v.review));
    const tr = cells("td", [thumbBox(v.id, `${code} ${st.step} ${name}`), name, v.state,
      v.files.frame_range, v.files.missing_frames,
      v.files.width ? `${v.files.width}×${v.files.height}` : "", v.author, v.created_at.slice(0, 16).replace("T", " "),
      v.uses.map((i) => "#" + i).join(" "), v.used_by.map((i) => "#" + i).join(" "), playBtn]);
    tr.id = `version-${v.id}`;
    if (v.files.missing_frames) tr.classList.add("has-missing");
    body.append(tr);
  }
  table.append(body);
  box.append(st.versions.length ? table : el("p", { textContent: "No versions yet." }));
  return box;
}

// Status change and approval: any state may be chosen; the store refuses what the role may
// not do and the message says which role is needed.
function statusForm(code, step, state) {
  const sel = el("select", { id: `shot-status-${step}`, ariaLabel: `${step} status` });
  for (const s of STATES) sel.append(el("option", { value: s, textContent: s, selected: s === state }));
  const note = el("input", { id: `shot-status-comment-${step}`, placeholder: "comment (optional)", ariaLabel: `${step} status comment` });
  const form = el("form", { className: "status-form" }, sel, note, el("button", { type: "submit", id: `shot-status-set-${step}`, textContent: "Set status" }));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const r = await api("PUT", `/shots/${encodeURIComponent(code)}/steps/${encodeURIComponent(step)}/status`,
        { state: sel.value, comment: note.value, if_state: state });
      $("shot-message").textContent = `${step}: ${r.status.state}`;
      window.shotline.pages.shot($("page"), [code]);
    } catch (e) {
      // 409: someone changed this task since the page was drawn; show what they set.
      if (e.status === 409) await window.shotline.pages.shot($("page"), [code]);
      $("shot-message").textContent = `${step}: ${e.message}`;
    }
  });
  return form;
}

function commentsBox(code, h) {
  const list = el("ol", { className: "comments", id: "shot-comments" },
    ...h.comments.slice().reverse().map((c) => el("li", {},
      el("span", { className: "meta", textContent: `${c.at.slice(0, 16).replace("T", " ")} ${c.user} · ${c.step} · ${c.state}` }),
      el("p", { textContent: c.text }))));
  const step = el("select", { id: "comment-step", ariaLabel: "comment on step" },
    ...h.steps.map((st) => el("option", { value: st.step, textContent: st.step })));
  const text = el("textarea", { id: "comment-text", rows: 2, ariaLabel: "comment", required: true });
  const form = el("form", { className: "comment-form" }, step, text, el("button", { type: "submit", id: "comment-submit", textContent: "Comment" }));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await api("POST", `/shots/${encodeURIComponent(code)}/comments`, { step: step.value, text: text.value });
      window.shotline.pages.shot($("page"), [code]);
    } catch (e) {
      $("shot-message").textContent = e.message;
    }
  });
  return el("div", { className: "comments-box" }, el("h3", { textContent: "Comments" }), form, list);
}

function auditBox(events) {
  const rows = events.slice().reverse().map((e) => cells("td",
    [e.at.slice(0, 19).replace("T", " "), e.user, e.action, e.entity, JSON.stringify(e.details)]));
  return el("details", { className: "audit" }, el("summary", { textContent: `Audit trail (${events.length})` }),
    el("table", {}, el("thead", {}, cells("th", ["When", "Who", "What", "On", "Details"])), el("tbody", {}, ...rows)));
}

// A link to the page already shown fires no hashchange (the grid may be showing instead, or
// the data may have changed): route again (app.js's router).
document.addEventListener("click", (ev) => {
  const a = ev.target.closest && ev.target.closest("a[href^='#/']");
  if (a && a.getAttribute("href") === location.hash) route();
});
