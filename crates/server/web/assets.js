// The asset library (#/assets, #/assets/GROUP, #/assets/~ for assets in no group): folders by
// group, each asset's newest versions with thumbnails over a checkerboard (alpha shows), tags
// and ratings, editable (the store checks who may; CSRF on every change).
// Uses app.js's api, el, $ and STATES (classic scripts share their top-level names).
"use strict";

window.shotline.pages.assets = async (sec, [group = ""]) => {
  const query = group === "" ? "" : `?group=${group === "~" ? "" : encodeURIComponent(group)}`;
  try {
    drawLibrary(sec, group, await api("GET", "/assets" + query));
  } catch (e) {
    sec.replaceChildren(el("h2", { textContent: "Assets" }), errorLine(e.message));
  }
};

function drawLibrary(sec, group, lib) {
  const link = (hash, text, current) => {
    const a = el("a", { href: hash, textContent: text });
    if (current) a.setAttribute("aria-current", "page");
    return el("li", {}, a);
  };
  const total = lib.groups.reduce((n, g) => n + g.count, 0);
  const folders = el("nav", { className: "folders", ariaLabel: "asset groups" }, el("ul", {},
    link("#/assets", `All (${total})`, group === ""),
    ...lib.groups.map((g) => g.code === null
      ? link("#/assets/~", `(no group) (${g.count})`, group === "~")
      : link(`#/assets/${encodeURIComponent(g.code)}`, `${g.code} (${g.count})`, group === g.code))));
  const cards = el("div", { className: "cards" }, ...lib.assets.map(assetCard));
  sec.replaceChildren(
    el("div", { className: "shot-head" }, el("h2", { textContent: group ? `Assets: ${group === "~" ? "(no group)" : group}` : "Assets" }),
      el("span", { id: "assets-message", role: "status" })),
    el("div", { className: "library" }, folders, lib.assets.length ? cards : el("p", { textContent: "No assets here." })));
}

function assetCard(a) {
  const card = el("article", { className: "card", id: `asset-${a.code}` },
    el("h3", { textContent: a.code, title: a.name || "" }));
  if (!a.versions.length) card.append(thumbBox(null, "", "alpha"), el("p", { textContent: "No versions yet." }));
  for (const v of a.versions) card.append(versionTile(a, v));
  return card;
}

function versionTile(a, v) {
  const name = `${v.step}${v.resource ? " " + v.resource : ""} ${v.label}`;
  return el("div", { className: "tile", id: `tile-${v.id}` },
    thumbBox(v.id, `${a.code} ${name}`, "alpha"),
    el("p", { className: "meta", textContent: `${name} · ${v.state} · ${v.author}` }),
    tagEditor(v), ratingEditor(v));
}

function tagEditor(v) {
  const list = el("ul", { className: "tags", id: `tags-${v.id}` });
  const draw = (tags) => list.replaceChildren(...tags.map((t) => {
    const rm = el("button", { type: "button", textContent: "×", ariaLabel: `remove tag ${t}` });
    rm.addEventListener("click", () => retag(v, { remove: [t] }, draw));
    return el("li", { className: "tag" }, el("span", { textContent: t }), rm);
  }));
  draw(v.tags);
  const input = el("input", { id: `tag-input-${v.id}`, placeholder: "add tag", ariaLabel: `add a tag to version ${v.id}`,
    pattern: "[A-Za-z0-9_.\\-]+", size: 10 });
  const form = el("form", { className: "tag-form" }, input, el("button", { type: "submit", id: `tag-add-${v.id}`, textContent: "Add" }));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const t = input.value.trim();
    if (!t) return;
    if (await retag(v, { add: [t] }, draw)) input.value = "";
  });
  return el("div", {}, list, form);
}

async function retag(v, change, draw) {
  try {
    const r = await api("PUT", `/versions/${v.id}/tags`, change);
    draw(r.tags);
    $("assets-message").textContent = `version ${v.id}: tags ${r.tags.join(", ") || "none"}`;
    return true;
  } catch (e) {
    $("assets-message").textContent = `version ${v.id}: ${e.message}`;
    return false;
  }
}

// Five buttons, the caller's own rating pressed; the mean of everyone's beside them.
function ratingEditor(v) {
  const summary = el("span", { className: "avg", id: `rating-${v.id}` });
  const group = el("div", { className: "rating", role: "group", ariaLabel: `rate version ${v.id}` });
  const draw = (r) => {
    summary.textContent = r ? `${r.average.toFixed(1)} (${r.count})` : "unrated";
    const mine = r != null && r.mine != null ? r.mine : 0;
    for (const b of group.querySelectorAll("button")) {
      b.setAttribute("aria-pressed", String(mine === Number(b.value)));
      b.classList.toggle("on", Number(b.value) <= mine);
    }
  };
  for (let n = 1; n <= 5; n++) {
    const b = el("button", { type: "button", value: String(n), id: `rate-${v.id}-${n}`, textContent: "★", ariaLabel: `${n} of 5` });
    b.addEventListener("click", async () => {
      try {
        draw((await api("PUT", `/versions/${v.id}/rating`, { rating: n })).rating);
      } catch (e) {
        $("assets-message").textContent = `version ${v.id}: ${e.message}`;
      }
    });
    group.append(b);
  }
  group.append(summary);
  draw(v.rating);
  return group;
}
