// Sportello demo page: be any person of the demo and chat with the real bot on the emulated
// Telegram and WhatsApp, each chat drawn the way its platform draws it. Plain DOM: message
// content only ever goes into text nodes and attributes.

const params = new URLSearchParams(location.search);
const LANG = params.get("lang") || "";
const STORE_KEY = "sportello-demo:panes";

const state = {
  world: null, // the last world object
  strings: {},
  messages: new Map(), // chat id (string) -> Map(message_id -> Message)
  panes: [], // [{chat, as, replyTo, el: {...}}] in display order
  unread: new Map(), // chat id (string) -> count, for chats without a pane
  restored: false,
  directoryKey: "",
};

// ---- small helpers -------------------------------------------------------------------------

function withLang(path) {
  if (!LANG) return path;
  return path + (path.includes("?") ? "&" : "?") + "lang=" + encodeURIComponent(LANG);
}

function t(key) {
  return state.strings[key] ?? "";
}

// A string of the page in its own direction (a string not yet translated stays readable in a
// page of the other direction), inside an element that keeps the page's alignment.
function words(text) {
  const span = document.createElement("span");
  span.dir = "auto";
  span.textContent = text;
  return span;
}

function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child);
  }
  return node;
}

const SVG_NS = "http://www.w3.org/2000/svg";
const ICONS = {
  send: "M3.4 20.4 21 12 3.4 3.6l-.01 6.53L15 12 3.39 13.87z",
  attach:
    "M16.5 6.5v10.5a4.5 4.5 0 0 1-9 0V5a3 3 0 0 1 6 0v10.5a1.5 1.5 0 0 1-3 0V6.5H9v9a3 3 0 0 0 6 0V5a4.5 4.5 0 0 0-9 0v12a6 6 0 0 0 12 0V6.5z",
  close: "M18.3 5.7 12 12l6.3 6.3-1.4 1.4L10.6 13.4 4.3 19.7 2.9 18.3 9.2 12 2.9 5.7l1.4-1.4 6.3 6.3 6.3-6.3z",
  reply: "M10 9V5l-7 7 7 7v-4.1c5 0 8.5 1.6 11 5.1-1-5-4-10-11-11z",
  doc: "M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8zm-1 7V3.5L18.5 9z",
  link: "M10.6 13.4a1 1 0 0 1 0-1.4l3.8-3.8a1 1 0 1 1 1.4 1.4L12 13.4a1 1 0 0 1-1.4 0zM8.5 20.5a4.5 4.5 0 0 1-3.2-7.7l2.8-2.8 1.4 1.4-2.8 2.8a2.5 2.5 0 0 0 3.5 3.5l2.8-2.8 1.4 1.4-2.8 2.8a4.5 4.5 0 0 1-3.1 1.4zm8-6.5-1.4-1.4 2.8-2.8a2.5 2.5 0 0 0-3.5-3.5l-2.8 2.8-1.4-1.4 2.8-2.8a4.5 4.5 0 0 1 6.4 6.4z",
  whatsapp: "M12 2.5a9.5 9.5 0 0 0-8.2 14.3L2.5 21.5l4.8-1.3A9.5 9.5 0 1 0 12 2.5zm0 2a7.5 7.5 0 1 1-3.9 13.9l-.3-.2-2.4.6.6-2.3-.2-.3A7.5 7.5 0 0 1 12 4.5z",
  list: "M4 5.5h2.5V8H4zm5 .25h11v2H9zM4 10.75h2.5v2.5H4zm5 .25h11v2H9zM4 16h2.5v2.5H4zm5 .25h11v2H9z",
  tick: "M1.5 12.9 6 17.4 16.6 6.8l-1.4-1.4L6 14.6l-3.1-3.1z",
  clock: "M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18zm0 2a7 7 0 1 1 0 14 7 7 0 0 1 0-14zm-1 2v5.6l4.3 2.6 1-1.7-3.3-2V7z",
};

const PLATFORMS = { telegram: "Telegram", whatsapp: "WhatsApp" };

function icon(name, cls = "icon") {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  svg.setAttribute("class", cls);
  const path = document.createElementNS(SVG_NS, "path");
  path.setAttribute("d", ICONS[name]);
  path.setAttribute("fill", "currentColor");
  svg.append(path);
  return svg;
}

function safeUrl(url) {
  if (typeof url !== "string") return null;
  const trimmed = url.trim();
  return /^(https?:|tg:)/i.test(trimmed) ? trimmed : null;
}

function initials(name) {
  const letters = Array.from(String(name || "").trim());
  return letters.length ? letters[0].toUpperCase() : "?";
}

function hue(id) {
  // a WhatsApp chat's id is "wa:" and the number: its last digits pick the colour
  const n = Math.abs(Number(id)) || Math.abs(Number(String(id ?? "").replace(/\D/g, "").slice(-9))) || 0;
  return (n * 47) % 360;
}

async function post(path, body, raw = false) {
  let response;
  try {
    response = await fetch(withLang(path), {
      method: "POST",
      headers: raw ? { "Content-Type": body.type || "application/octet-stream" } : { "Content-Type": "application/json" },
      body: raw ? body : JSON.stringify(body),
    });
  } catch {
    return { ok: false, error: "⚠" };
  }
  let data = {};
  try {
    data = await response.json();
  } catch {
    data = {};
  }
  if (!response.ok) return { ok: false, error: data.error || `⚠ ${response.status}` };
  return { ok: true, data };
}

// ---- the world: people, chats, clock -------------------------------------------------------

function people(role) {
  return (state.world?.people || []).filter((p) => p.role === role);
}

function writers() {
  const all = state.world?.people || [];
  return [...all.filter((p) => p.role === "volunteer"), ...all.filter((p) => p.role === "organiser")];
}

function chatInfo(chatId) {
  const id = String(chatId);
  return (state.world?.chats || []).find((c) => String(c.id) === id) || null;
}

function personOf(id) {
  return (state.world?.people || []).find((p) => String(p.id) === String(id)) || null;
}

function personName(id) {
  return personOf(id)?.name ?? null;
}

function applyWorld(world) {
  state.world = world;
  state.strings = world.strings || {};
  const html = document.documentElement;
  html.lang = world.language || "en";
  html.dir = world.direction === "rtl" ? "rtl" : "ltr";
  renderChrome();
  renderDirectory();
  for (const pane of state.panes) refreshPaneChrome(pane);
}

function renderChrome() {
  const set = (id, key) => {
    document.getElementById(id).replaceChildren(words(t(key)));
  };
  set("banner-text", "banner");
  set("clock-label", "demo_time");
  document.getElementById("clock-time").textContent = state.world?.now || "";
  set("step-hour", "plus_hour");
  set("step-day", "plus_day");
  set("step-reminder", "next_reminder");
  document.getElementById("sidebar").setAttribute("aria-label", t("open_chat"));
  set("new-resident-heading", "new_resident");
  set("resident-name-label", "name");
  set("resident-channel-label", "chat_app");
  set("resident-language-label", "language");
  set("resident-country-label", "country");
  set("resident-start", "start");
  set("no-chats", "no_chats");

  const languages = (state.world?.languages || []).map((l) => ({ value: l.code, text: l.name, lang: l.code }));
  fillSelect(document.getElementById("resident-language"), languages, state.world?.language);
  const channels = (state.world?.channels || ["telegram"]).map((c) => ({ value: c, text: PLATFORMS[c] || c, lang: "en" }));
  fillSelect(document.getElementById("resident-channel"), channels, "telegram");
  // "Egitto +20": the calling code is what the bot reads the language hint from.
  const countries = (state.world?.countries || []).map((c) => ({ value: c.code, text: `${c.name} +${c.code}` }));
  fillSelect(document.getElementById("resident-country"), countries, countries[0]?.value);
  document.getElementById("resident-channel-field").hidden = channels.length < 2;
  showResidentFields();
}

// Options of a select, kept as they are while unchanged (an open list is left alone).
function fillSelect(select, options, fallback) {
  const key = JSON.stringify(options);
  if (select.dataset.key === key) return;
  select.dataset.key = key;
  const chosen = select.value || fallback || "";
  select.replaceChildren(...options.map((o) => h("option", { value: o.value, lang: o.lang, dir: "auto", text: o.text })));
  if ([...select.options].some((o) => o.value === chosen)) select.value = chosen;
}

// A Telegram resident's phone tells the bot its language; a WhatsApp resident's number does.
function showResidentFields() {
  const whatsapp = document.getElementById("resident-channel").value === "whatsapp";
  document.getElementById("resident-language-field").hidden = whatsapp;
  document.getElementById("resident-country-field").hidden = !whatsapp;
}

function renderDirectory() {
  const world = state.world;
  if (!world) return;
  const groups = (world.chats || []).filter((c) => c.kind === "group");
  const entry = (p) => ({ id: p.id, title: p.name, language: p.language, kind: "private", channel: p.channel || "telegram" });
  const sections = [
    ["residents", people("resident").map(entry)],
    ["volunteers", people("volunteer").map(entry)],
    ["organiser", people("organiser").map(entry)],
    ["groups", groups.map((c) => ({ id: c.id, title: c.title, kind: "group", channel: c.channel || "telegram" }))],
  ];
  const open = new Set(state.panes.map((p) => String(p.chat)));
  const key = JSON.stringify([sections, [...open], [...state.unread], state.strings]);
  if (key === state.directoryKey) return;
  state.directoryKey = key;

  const directory = document.getElementById("directory");
  const focused = document.activeElement?.closest?.("#directory [data-chat]")?.dataset.chat;
  const nodes = [];
  for (const [key, entries] of sections) {
    if (!entries.length) continue;
    const headingId = `dir-${key}`;
    const list = h("ul", { class: "entries", "aria-labelledby": headingId });
    for (const entry of entries) {
      const unread = state.unread.get(String(entry.id)) || 0;
      const platform = PLATFORMS[entry.channel] || entry.channel;
      const button = h(
        "button",
        {
          type: "button",
          class: "entry" + (open.has(String(entry.id)) ? " is-open" : ""),
          "data-chat": entry.id,
          // the platform is part of the name: two residents may share a name, not a chat app
          "aria-label": `${entry.title}, ${platform}`,
          onclick: () => openPane(entry.id, { focus: true }),
        },
        h(
          "span",
          { class: "avatar" + (entry.kind === "group" ? " group" : ""), "aria-hidden": "true", style: `--hue:${hue(entry.id)}`, text: initials(entry.title) },
          h("span", { class: `platform-mark on-${entry.channel}`, title: platform }, icon(entry.channel === "whatsapp" ? "whatsapp" : "send")),
        ),
        h("bdi", { class: "entry-name", text: entry.title }),
        entry.language ? h("span", { class: "entry-lang", "aria-hidden": "true", lang: "en", text: entry.language.toUpperCase() }) : null,
        unread ? h("span", { class: "entry-unread", "aria-hidden": "true", text: String(unread) }) : null,
      );
      list.append(h("li", {}, button));
    }
    nodes.push(h("section", { class: "directory-section" }, h("h2", { id: headingId }, words(t(key))), list));
  }
  directory.replaceChildren(...nodes);
  if (focused) directory.querySelector(`[data-chat="${CSS.escape(focused)}"]`)?.focus();
}

// ---- messages ------------------------------------------------------------------------------

function chatMessages(chatId) {
  const key = String(chatId);
  if (!state.messages.has(key)) state.messages.set(key, new Map());
  return state.messages.get(key);
}

function isBot(message) {
  return Boolean(message?.from?.is_bot) || message?.from === "bot";
}

// A WhatsApp message, as the server flattens it (see handlers/web/demo_whatsapp.py): it knows
// its place in the conversation, where Telegram's are ordered by their ids.
function isWhatsApp(message) {
  return typeof message?.seq === "number";
}

function order(message) {
  return isWhatsApp(message) ? message.seq : Number(message.message_id);
}

function senderName(message) {
  const from = message?.from;
  if (!from) return "";
  return [from.first_name, from.last_name].filter(Boolean).join(" ") || personName(from.id) || "";
}

function firstLine(message) {
  const text = message?.text ?? message?.caption ?? "";
  const line = text.split("\n").find((l) => l.trim()) || "";
  if (line) return line.length > 90 ? line.slice(0, 90) + "…" : line;
  if (message?.photo || message?.media?.kind === "image") return t("photo");
  if (message?.voice || message?.media?.kind === "voice") return t("voice_message");
  if (message?.document) return message.document.file_name || "";
  if (message?.media) return message.media.filename || "";
  if (message?.sticker) return message.sticker.emoji || "";
  return "";
}

// Entities: offsets and lengths are UTF-16 code units, exactly JS string indices.
function renderEntities(text, entities) {
  const valid = (Array.isArray(entities) ? entities : [])
    .map((e) => ({ ...e, offset: Math.max(0, Number(e.offset) || 0), length: Number(e.length) || 0 }))
    .map((e) => ({ ...e, length: Math.min(e.length, text.length - e.offset) }))
    .filter((e) => e.length > 0 && e.offset < text.length);
  const order = (a, b) => a.offset - b.offset || b.length - a.length;
  valid.sort(order);
  return build(text, valid, 0, text.length);
}

function build(text, entities, start, end) {
  const frag = document.createDocumentFragment();
  const work = entities.slice();
  let pos = start;
  let afterBlock = false;
  const plain = (from, to) => {
    let piece = text.slice(from, to);
    if (afterBlock && piece.startsWith("\n")) piece = piece.slice(1);
    afterBlock = false;
    if (piece) frag.append(isolates(piece));
  };
  while (work.length) {
    const entity = work.shift();
    if (entity.offset < pos) {
      // overlaps what is already drawn: keep only its remainder
      const rest = entity.offset + entity.length - pos;
      if (rest > 0) insertSorted(work, { ...entity, offset: pos, length: rest });
      continue;
    }
    const entityEnd = Math.min(entity.offset + entity.length, end);
    if (entity.offset > pos) plain(pos, entity.offset);
    const inner = [];
    while (work.length && work[0].offset < entityEnd) {
      const child = work.shift();
      const childEnd = child.offset + child.length;
      if (childEnd > entityEnd) {
        inner.push({ ...child, length: entityEnd - child.offset });
        insertSorted(work, { ...child, offset: entityEnd, length: childEnd - entityEnd });
      } else {
        inner.push(child);
      }
    }
    const node = entityNode(entity, text.slice(entity.offset, entityEnd));
    const content = build(text, inner, entity.offset, entityEnd);
    (node.querySelector?.("[data-slot]") || node).append(content);
    frag.append(node);
    afterBlock = node.dataset?.block === "1";
    pos = entityEnd;
  }
  if (pos < end) plain(pos, end);
  return frag;
}

// A short isolated run (the bot isolates request numbers, names, dates: "\u2068SP-00007\u2069")
// is kept on one line: broken at its hyphen it would read backwards in a right-to-left line.
const SHORT_ISOLATE = /(\u2068[^\u2066-\u2069\n]{1,32}\u2069)/;

function isolates(piece) {
  const parts = piece.split(SHORT_ISOLATE);
  if (parts.length === 1) return document.createTextNode(piece);
  const frag = document.createDocumentFragment();
  parts.forEach((part, i) => {
    if (!part) return;
    frag.append(i % 2 ? h("span", { class: "nobr", text: part }) : document.createTextNode(part));
  });
  return frag;
}

function insertSorted(list, entity) {
  let i = 0;
  while (i < list.length && (list[i].offset < entity.offset || (list[i].offset === entity.offset && list[i].length >= entity.length))) i++;
  list.splice(i, 0, entity);
}

function entityNode(entity, visible) {
  switch (entity.type) {
    case "bold":
      return h("strong");
    case "italic":
      return h("em");
    case "underline":
      return h("u");
    case "strikethrough":
      return h("s");
    case "spoiler": {
      const node = h("span", { class: "spoiler", tabindex: "0" });
      const reveal = (event) => {
        if (node.classList.contains("revealed")) return;
        event.preventDefault();
        event.stopPropagation();
        node.classList.add("revealed");
        node.removeAttribute("tabindex");
      };
      node.addEventListener("click", reveal);
      node.addEventListener("keydown", (event) => {
        if (event.key === "Enter" || event.key === " ") reveal(event);
      });
      return node;
    }
    case "code":
      return h("code", { dir: "ltr" });
    case "pre": {
      const code = h("code", { "data-slot": "1" });
      if (entity.language) code.className = "language-" + String(entity.language).replace(/[^\w-]/g, "");
      const node = h("pre", { dir: "ltr", "data-block": "1" }, code);
      return node;
    }
    case "text_link": {
      const url = safeUrl(entity.url);
      if (!url) return h("span", { class: "link-unsafe" });
      return h("a", { href: url, rel: "noopener noreferrer", target: "_blank" });
    }
    case "url": {
      const url = safeUrl(/^[a-z][\w+.-]*:/i.test(visible) ? visible : "https://" + visible);
      if (!url) return h("span");
      return h("a", { href: url, rel: "noopener noreferrer", target: "_blank" });
    }
    case "email":
      return h("span", { class: "entity-email" });
    case "mention":
    case "text_mention":
    case "hashtag":
    case "cashtag":
    case "bot_command":
    case "phone_number":
      return h("span", { class: "entity-" + entity.type.replace(/_/g, "-") });
    case "blockquote":
      return h("blockquote", { "data-block": "1" });
    case "expandable_blockquote": {
      const node = h("blockquote", { class: "expandable", tabindex: "0", "data-block": "1" });
      const toggle = (event) => {
        if (event.target.closest("a, .spoiler:not(.revealed)")) return;
        node.classList.toggle("expanded");
      };
      node.addEventListener("click", toggle);
      node.addEventListener("keydown", (event) => {
        if (event.target === node && (event.key === "Enter" || event.key === " ")) {
          event.preventDefault();
          toggle(event);
        }
      });
      return node;
    }
    default:
      return h("span");
  }
}

function fileUrl(fileId, inline = false) {
  return `/demo/files/${encodeURIComponent(fileId)}${inline ? "?inline=1" : ""}`;
}

function renderQuote(replied) {
  const quote = h("div", { class: "quote", dir: "auto" });
  const name = isWhatsApp(replied) ? "" : isBot(replied) ? replied.from.first_name || "" : senderName(replied);
  if (name) quote.append(h("bdi", { class: "quote-name", text: name }));
  quote.append(h("span", { class: "quote-text", dir: "auto", text: firstLine(replied) }));
  return quote;
}

// Times as the help desk tells them: in its time zone, whatever the browser's.
function zone() {
  return state.world?.timezone || undefined;
}

function formatTime(date) {
  if (!date) return "";
  return new Date(date * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: zone() });
}

function dayKey(date) {
  if (!date) return "";
  return new Date(date * 1000).toLocaleDateString("en-CA", { timeZone: zone() });
}

function formatDay(date) {
  // numbers only: the page's words all come from the server's strings
  return new Date(date * 1000).toLocaleDateString([], { day: "numeric", month: "numeric", year: "numeric", timeZone: zone() });
}

function renderMessage(pane, message) {
  const bot = isBot(message);
  const group = pane.group;
  const mine = !bot && String(message.from?.id) === String(pane.as);
  const row = messageRow(message, bot);

  // One article per message: the bubble with its buttons. It takes the direction of its own
  // text (dir="auto"); the parts in the page's words or another text (names, quote, keyboard)
  // carry their own dir and so do not count for it.
  const wrap = h("article", { class: "msg", dir: "auto" });
  const bubble = h("div", { class: "bubble" });

  if (group && (bot || !mine)) {
    const name = h("p", { class: "sender", style: `--hue:${hue(message.from?.id)}` });
    name.append(h("bdi", { text: bot ? message.from?.first_name || "" : senderName(message) }));
    if (bot) name.append(" ", h("span", { class: "bot-tag", dir: "auto", text: t("bot") }));
    bubble.append(name);
  }
  if (message.reply_to_message) bubble.append(renderQuote(message.reply_to_message));

  if (Array.isArray(message.photo) && message.photo.length) {
    const id = message.photo[message.photo.length - 1].file_id;
    const img = h("img", { class: "photo", alt: t("photo"), src: fileUrl(id, true), loading: "lazy" });
    img.addEventListener("load", () => stickIfNeeded(pane));
    bubble.append(h("a", { class: "photo-link", href: fileUrl(id, true), target: "_blank", rel: "noopener noreferrer" }, img));
  }
  if (message.voice?.file_id) {
    bubble.append(h("audio", { controls: true, preload: "none", src: fileUrl(message.voice.file_id, true), "aria-label": t("voice_message") }));
  }
  if (message.document?.file_id) {
    const name = message.document.file_name || t("download");
    bubble.append(
      h(
        "p",
        { class: "document" },
        h("span", { class: "doc-icon", "aria-hidden": "true" }, icon("doc")),
        h("a", { href: fileUrl(message.document.file_id), download: name, title: t("download"), dir: "auto", text: name }),
      ),
    );
  }
  if (message.sticker) {
    bubble.append(h("p", { class: "sticker", text: message.sticker.emoji || "🖼" }));
  }
  const text = typeof message.text === "string" ? message.text : typeof message.caption === "string" ? message.caption : null;
  if (text !== null && text !== "") {
    const entities = typeof message.text === "string" ? message.entities : message.caption_entities;
    const body = h("div", { class: "text" });
    body.append(renderEntities(text, entities));
    bubble.append(body);
  }
  const meta = h("span", { class: "meta" });
  if (message.edit_date) meta.append(h("span", { class: "edited", dir: "auto", text: t("edited") }));
  meta.append(h("time", { datetime: message.date ? new Date(message.date * 1000).toISOString() : null, text: formatTime(message.date) }));
  bubble.append(meta);
  wrap.append(bubble);

  const rows = message.reply_markup?.inline_keyboard;
  if (Array.isArray(rows) && rows.length) {
    const keyboard = h("div", { class: "keyboard", dir: document.documentElement.dir }); // rows run as the page does
    for (const buttons of rows) {
      if (!Array.isArray(buttons) || !buttons.length) continue;
      const line = h("div", { class: "keyboard-row" });
      for (const button of buttons) line.append(keyboardButton(pane, message, button));
      keyboard.append(line);
    }
    wrap.append(keyboard);
  }

  if (bot) {
    wrap.append(
      h(
        "button",
        {
          type: "button",
          class: "reply-button",
          "aria-label": t("reply"),
          title: t("reply"),
          onclick: () => startReply(pane, message.message_id),
        },
        icon("reply"),
      ),
    );
  }
  row.append(wrap);
  return row;
}

function keyboardButton(pane, message, button) {
  const label = String(button?.text ?? "");
  if (typeof button?.callback_data === "string") {
    const node = h("button", { type: "button", class: "key", dir: "auto", text: label });
    node.addEventListener("click", async () => {
      if (node.classList.contains("busy")) return;
      node.classList.add("busy");
      const result = await post("/demo/press", { as: pane.as, chat: pane.chat, message: message.message_id, data: button.callback_data });
      node.classList.remove("busy");
      if (!result.ok) showError(pane, result.error);
    });
    return node;
  }
  const url = safeUrl(button?.url);
  if (url) {
    return h("a", { class: "key key-link", href: url, target: "_blank", rel: "noopener noreferrer", dir: "auto" }, label, icon("link", "icon key-link-icon"));
  }
  return h("button", { type: "button", class: "key", dir: "auto", disabled: true, text: label });
}

function messageRow(message, bot) {
  const row = h("div", {
    class: "row " + (bot ? "from-bot" : "from-person"),
    "data-id": message.message_id,
    "data-order": order(message),
    "data-day": dayKey(message.date),
  });
  row.append(h("p", { class: "day-chip", hidden: true }, h("span", { text: message.date ? formatDay(message.date) : "" })));
  return row;
}

function drawMessage(pane, message) {
  return pane.whatsapp ? renderWaMessage(pane, message) : renderMessage(pane, message);
}

// ---- WhatsApp's way: reply buttons, lists, templates, files, ticks -------------------------

function mediaUrl(mediaId, inline = false) {
  return `/demo/files/wa/${encodeURIComponent(mediaId)}${inline ? "?inline=1" : ""}`;
}

function renderWaMessage(pane, message) {
  const bot = message.from === "bot";
  const failed = message.status === "failed";
  const row = messageRow(message, bot);
  // As on Telegram's side: the article takes its own text's direction; the parts in other
  // words (the quote, the header, the buttons) carry their own dir and do not count for it.
  const wrap = h("article", { class: "msg wa-msg" + (failed ? " is-failed" : "") + (message.template ? " is-template" : ""), dir: "auto" });
  const bubble = h("div", { class: "bubble" });
  const replied = message.reply_to ? chatMessages(pane.chat).get(message.reply_to) : null;
  if (replied) bubble.append(renderQuote(replied));
  if (message.header) bubble.append(h("p", { class: "wa-header", dir: "auto", text: message.header }));
  if (message.media?.id) bubble.append(waMedia(pane, message.media));
  if (message.text) {
    const body = h("div", { class: "text" });
    body.append(isolates(message.text));
    bubble.append(body);
  }
  if (message.footer) bubble.append(h("p", { class: "wa-footer", dir: "auto", text: message.footer }));
  const when = message.date ? new Date(message.date * 1000).toISOString() : null;
  bubble.append(h("span", { class: "meta" }, h("time", { datetime: when, text: formatTime(message.date) }), ticks(message)));
  wrap.append(bubble);
  const choices = waChoices(pane, message, failed);
  if (choices) wrap.append(choices);
  if (bot && !failed) {
    wrap.append(
      h("button", { type: "button", class: "reply-button", "aria-label": t("reply"), title: t("reply"), onclick: () => startReply(pane, message.message_id) }, icon("reply")),
    );
  }
  row.append(wrap);
  return row;
}

// The ticks of a message: a clock while it is on its way, one grey tick sent, two grey
// delivered, two blue read; a red mark when it failed, with WhatsApp's error code.
function ticks(message) {
  const status = message.status || "accepted";
  if (status === "failed") {
    const label = t("status_failed").replace("{code}", String(message.error ?? "?"));
    return h("span", { class: "ticks is-failed", role: "img", "aria-label": label, title: label }, h("span", { "aria-hidden": "true", text: "!" }));
  }
  const label = t(`status_${status}`);
  const mark = h("span", { class: `ticks is-${status}`, role: "img", "aria-label": label, title: label });
  if (status === "accepted") {
    mark.append(icon("clock", "tick-icon"));
    return mark;
  }
  const two = status !== "sent";
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", two ? "0 0 24 24" : "0 0 18 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("class", "tick-icon" + (two ? " double" : ""));
  for (const shift of two ? [0, 6] : [0]) {
    const path = document.createElementNS(SVG_NS, "path");
    path.setAttribute("d", ICONS.tick);
    path.setAttribute("fill", "currentColor");
    path.setAttribute("transform", `translate(${shift} 0)`);
    svg.append(path);
  }
  mark.append(svg);
  return mark;
}

function waMedia(pane, media) {
  if (media.kind === "image" || media.kind === "sticker") {
    const img = h("img", { class: "photo", alt: t("photo"), src: mediaUrl(media.id, true), loading: "lazy" });
    img.addEventListener("load", () => stickIfNeeded(pane));
    return h("a", { class: "photo-link", href: mediaUrl(media.id, true), target: "_blank", rel: "noopener noreferrer" }, img);
  }
  if (media.kind === "voice") {
    return h("audio", { controls: true, preload: "none", src: mediaUrl(media.id, true), "aria-label": t("voice_message") });
  }
  const name = media.filename || t("download");
  return h(
    "p",
    { class: "document wa-document" },
    h("span", { class: "doc-icon", "aria-hidden": "true" }, icon("doc")),
    h("a", { href: mediaUrl(media.id), download: name, title: t("download"), dir: "auto", text: name }),
  );
}

// Reply buttons and a template's quick replies: full-width under the bubble. A list: one
// button, its own label, that opens the list's rows.
function waChoices(pane, message, failed) {
  const box = h("div", { class: "wa-buttons" });
  if (Array.isArray(message.buttons) && message.buttons.length) {
    for (const button of message.buttons) {
      const node = h("button", { type: "button", class: "wa-button", dir: "auto", disabled: failed, text: String(button.title ?? "") });
      node.addEventListener("click", () => choose(pane, message, button.id, node));
      box.append(node);
    }
    return box;
  }
  if (message.list) {
    const opener = h(
      "button",
      { type: "button", class: "wa-button wa-list-button", dir: "auto", disabled: failed, "aria-haspopup": "dialog" },
      icon("list", "icon wa-list-icon"),
      h("span", { text: String(message.list.button ?? "") }),
    );
    opener.addEventListener("click", () => openList(pane, message));
    box.append(opener);
    return box;
  }
  return null;
}

async function choose(pane, message, id, node = null) {
  if (node?.classList.contains("busy")) return;
  node?.classList.add("busy");
  const result = await post("/demo/press", { as: pane.as, chat: pane.chat, message: message.message_id, data: id });
  node?.classList.remove("busy");
  if (!result.ok) showError(pane, result.error);
}

// A list message's rows, in a sheet over the chat as WhatsApp opens it; picking a row sends it.
function openList(pane, message) {
  const layer = pane.el.dialogLayer;
  const returnTo = document.activeElement;
  const titleId = `list-${++paneCounter}`;
  const close = h("button", { type: "button", class: "icon-button", "aria-label": t("close"), title: t("close") }, icon("close"));
  const sheet = h(
    "div",
    { class: "wa-sheet", role: "dialog", "aria-modal": "true", "aria-labelledby": titleId },
    h("header", { class: "wa-sheet-header" }, close, h("h3", { id: titleId, dir: "auto", text: String(message.list.button ?? "") })),
  );
  const closeSheet = (focusInput) => {
    sheet.remove();
    if (!layer.children.length) {
      layer.hidden = true;
      pane.el.section.classList.remove("has-dialog");
    }
    const back = !focusInput && returnTo && document.contains(returnTo) ? returnTo : pane.el.input;
    back.focus({ preventScroll: true });
  };
  const body = h("div", { class: "wa-sheet-body" });
  for (const section of message.list.sections || []) {
    if (section.title) body.append(h("h4", { class: "wa-section", dir: "auto", text: section.title }));
    const rows = h("ul", { class: "wa-rows" });
    for (const row of section.rows || []) {
      const pick = h(
        "button",
        { type: "button", class: "wa-row", dir: "auto" },
        h("span", { class: "wa-row-title", text: String(row.title ?? "") }),
        row.description ? h("span", { class: "wa-row-description", text: String(row.description) }) : null,
      );
      pick.addEventListener("click", () => {
        closeSheet(true);
        choose(pane, message, row.id);
      });
      rows.append(h("li", {}, pick));
    }
    body.append(rows);
  }
  sheet.append(body);
  close.addEventListener("click", () => closeSheet(false));
  sheet.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      closeSheet(false);
    } else if (event.key === "Tab") {
      trapFocus(sheet, event);
    }
  });
  layer.append(sheet);
  layer.hidden = false;
  pane.el.section.classList.add("has-dialog");
  (sheet.querySelector(".wa-row") || close).focus();
}

function trapFocus(container, event) {
  const controls = [...container.querySelectorAll("button:not([disabled])")];
  if (!controls.length) return;
  const first = controls[0];
  const last = controls[controls.length - 1];
  if (event.shiftKey && document.activeElement === first) {
    event.preventDefault();
    last.focus();
  } else if (!event.shiftKey && document.activeElement === last) {
    event.preventDefault();
    first.focus();
  }
}

// The resident has the chat open: what the bot delivered turns read (blue ticks), and
// WhatsApp tells the bot so.
function lookAt(pane) {
  if (!pane.whatsapp || pane.reading) return;
  const unread = [...chatMessages(pane.chat).values()].some((m) => m.from === "bot" && m.status === "delivered");
  if (!unread) return;
  pane.reading = setTimeout(() => {
    pane.reading = null;
    if (state.panes.includes(pane)) post("/demo/read", { as: pane.as, chat: pane.chat });
  }, 500);
}

// ---- panes ---------------------------------------------------------------------------------

function paneOf(chatId) {
  return state.panes.find((p) => String(p.chat) === String(chatId)) || null;
}

function defaultWriter() {
  const list = writers();
  return list.length ? list[0].id : null;
}

function remember() {
  const saved = state.panes.map((p) => ({ chat: p.chat, as: p.as }));
  try {
    localStorage.setItem(STORE_KEY, JSON.stringify(saved));
  } catch {
    /* private mode: nothing remembered */
  }
}

function openPane(chatId, { focus = false, first = false, title = null, as = null } = {}) {
  let pane = paneOf(chatId);
  if (!pane) {
    pane = createPane(chatId, { title, as });
    const container = document.getElementById("panes");
    if (first) {
      state.panes.unshift(pane);
      container.insertBefore(pane.el.section, container.querySelector("section.pane"));
    } else {
      state.panes.push(pane);
      container.append(pane.el.section);
    }
    state.unread.delete(String(chatId));
    renderLog(pane);
    remember();
    updateEmpty();
    renderDirectory();
  }
  if (focus) {
    pane.el.section.scrollIntoView({ behavior: "smooth", block: "nearest", inline: "nearest" });
    pane.el.input.focus({ preventScroll: true });
  }
  return pane;
}

function closePane(pane) {
  const index = state.panes.indexOf(pane);
  if (index < 0) return;
  state.panes.splice(index, 1);
  pane.el.section.remove();
  remember();
  updateEmpty();
  renderDirectory();
  const entry = document.querySelector(`#directory [data-chat="${CSS.escape(String(pane.chat))}"]`);
  if (entry) entry.focus();
}

function updateEmpty() {
  document.getElementById("no-chats").hidden = state.panes.length > 0;
}

let paneCounter = 0;

function createPane(chatId, { title = null, as = null } = {}) {
  const info = chatInfo(chatId);
  const group = info ? info.kind === "group" : Number(chatId) < 0;
  const whatsapp = info?.channel === "whatsapp";
  const n = ++paneCounter;
  const pane = { chat: chatId, group, whatsapp, as: group ? as ?? defaultWriter() : chatId, replyTo: null, stick: true, el: {} };
  if (group && as != null && !writers().some((w) => String(w.id) === String(as))) pane.as = defaultWriter();
  const name = info?.title ?? title ?? personName(chatId) ?? String(chatId);

  const titleId = `pane-${n}-title`;
  const section = h("section", { class: "pane" + (group ? " is-group" : "") + (whatsapp ? " is-whatsapp" : ""), "aria-label": name, "data-chat": chatId });
  const avatar = h("span", { class: "avatar" + (group ? " group" : ""), "aria-hidden": "true", style: `--hue:${hue(chatId)}`, text: initials(name) });
  const heading = h("h2", { class: "pane-title", id: titleId }, h("bdi", { text: name }));
  const subtitle = h("p", { class: "pane-subtitle" });
  const close = h(
    "button",
    { type: "button", class: "icon-button close-button", onclick: () => closePane(pane) },
    icon("close"),
  );
  const header = h("header", { class: "pane-header" }, avatar, h("div", { class: "pane-heading" }, heading, subtitle), close);
  section.append(header);

  let writeAs = null;
  let writeAsLabel = null;
  if (group) {
    const selectId = `pane-${n}-as`;
    writeAsLabel = h("label", { for: selectId });
    writeAs = h("select", { id: selectId, class: "write-as" });
    writeAs.addEventListener("change", () => {
      pane.as = Number(writeAs.value);
      remember();
      renderLog(pane);
    });
    section.append(h("div", { class: "write-as-bar" }, writeAsLabel, writeAs));
  }

  const log = h("div", { class: "log", role: "log", "aria-live": "polite", "aria-labelledby": titleId, tabindex: "0" });
  log.addEventListener("scroll", () => {
    pane.stick = log.scrollHeight - log.scrollTop - log.clientHeight < 60;
  });
  // the log shrinks when the reply bar opens or the message box grows: keep its end in view
  new ResizeObserver(() => stickIfNeeded(pane)).observe(log);
  const toast = h("div", { class: "toast", role: "status" });
  const error = h("div", { class: "pane-error", role: "alert" });
  const stage = h("div", { class: "stage" }, log, toast, error);
  section.append(stage);

  const replyLabel = h("span", { class: "reply-label" });
  const replyQuote = h("div", { class: "reply-quote" });
  const replyCancel = h("button", { type: "button", class: "icon-button", onclick: () => cancelReply(pane, true) }, icon("close"));
  const replyBar = h(
    "div",
    { class: "reply-bar", hidden: true },
    h("span", { class: "reply-bar-icon", "aria-hidden": "true" }, icon("reply")),
    h("div", { class: "reply-bar-body" }, replyLabel, replyQuote),
    replyCancel,
  );

  const fileInput = h("input", { type: "file", class: "file-input", hidden: true });
  const attach = h("button", { type: "button", class: "icon-button attach-button", onclick: () => fileInput.click() }, icon("attach"));
  fileInput.addEventListener("change", () => {
    const file = fileInput.files?.[0];
    fileInput.value = "";
    if (file) upload(pane, file);
  });
  const input = h("textarea", { class: "composer-input", rows: "1", dir: "auto" });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.altKey && !event.ctrlKey && !event.metaKey && !event.isComposing) {
      event.preventDefault();
      send(pane);
    } else if (event.key === "Escape" && pane.replyTo != null) {
      event.preventDefault();
      cancelReply(pane, true);
    }
  });
  input.addEventListener("input", () => autosize(input));
  const sendButton = h("button", { type: "button", class: "icon-button send-button", onclick: () => send(pane) }, icon("send"));
  const composer = h("div", { class: "composer" }, attach, fileInput, input, sendButton);
  section.append(replyBar, composer);

  const dialogLayer = h("div", { class: "dialog-layer", hidden: true });
  section.append(dialogLayer);

  pane.el = { section, heading, subtitle, close, avatar, writeAs, writeAsLabel, log, toast, error, replyBar, replyLabel, replyQuote, replyCancel, fileInput, attach, input, sendButton, dialogLayer, rows: new Map() };
  refreshPaneChrome(pane);
  return pane;
}

function refreshPaneChrome(pane) {
  const el = pane.el;
  const info = chatInfo(pane.chat);
  if (info) {
    el.section.setAttribute("aria-label", info.title);
    el.heading.replaceChildren(h("bdi", { text: info.title }));
    el.avatar.textContent = initials(info.title);
  }
  if (!pane.typing) el.subtitle.replaceChildren(subtitle(pane));
  el.close.setAttribute("aria-label", t("close_chat"));
  el.close.title = t("close_chat");
  if (el.writeAs) {
    el.writeAsLabel.replaceChildren(words(t("write_as")));
    const list = writers();
    if (!list.some((w) => String(w.id) === String(pane.as))) pane.as = defaultWriter();
    const key = JSON.stringify(list.map((w) => [w.id, w.name]));
    if (el.writeAs.dataset.key !== key) {
      el.writeAs.dataset.key = key;
      el.writeAs.replaceChildren(...list.map((w) => h("option", { value: w.id, dir: "auto", text: w.name })));
    }
    if (pane.as != null && el.writeAs.value !== String(pane.as)) el.writeAs.value = String(pane.as);
  }
  el.input.setAttribute("aria-label", t("message"));
  el.input.placeholder = t("message");
  el.sendButton.setAttribute("aria-label", t("send"));
  el.sendButton.title = t("send");
  el.attach.setAttribute("aria-label", t("attach"));
  el.attach.title = t("attach");
  el.fileInput.setAttribute("aria-label", t("attach"));
  el.replyLabel.replaceChildren(words(t("replying_to")));
  el.replyCancel.setAttribute("aria-label", t("cancel_reply"));
  el.replyCancel.title = t("cancel_reply");
  if (pane.replyTo != null) showReplyBar(pane);
}

// Under a chat's title: a group, a private chat with the bot, or (WhatsApp) the number.
function subtitle(pane) {
  const number = pane.whatsapp ? personOf(pane.chat)?.number : null;
  if (number) return h("bdi", { dir: "ltr", text: number });
  return words(pane.group ? t("group_chat") : t("private_chat"));
}

function autosize(input) {
  input.style.height = "auto";
  input.style.height = Math.min(input.scrollHeight, 160) + "px";
}

// The log, drawn from the messages held for the chat: a full redraw, or one message in place.
function renderLog(pane) {
  const log = pane.el.log;
  pane.el.rows = new Map();
  const nodes = [];
  const messages = [...chatMessages(pane.chat).values()].sort((a, b) => order(a) - order(b));
  for (const message of messages) {
    const row = drawMessage(pane, message);
    pane.el.rows.set(message.message_id, row);
    nodes.push(row);
  }
  log.replaceChildren(...nodes);
  markDays(pane);
  if (pane.replyTo != null && !chatMessages(pane.chat).has(pane.replyTo)) cancelReply(pane, false);
  else if (pane.replyTo != null) showReplyBar(pane);
  pane.stick = true;
  stickIfNeeded(pane);
  lookAt(pane);
}

function placeMessage(pane, message) {
  const log = pane.el.log;
  const row = drawMessage(pane, message);
  const old = pane.el.rows.get(message.message_id);
  const hadFocus = old && old.contains(document.activeElement) ? focusPath(old, document.activeElement) : null;
  if (old) {
    old.replaceWith(row);
  } else {
    let next = null;
    const place = order(message);
    for (const node of pane.el.rows.values()) {
      const at = Number(node.dataset.order);
      if (at > place && (!next || at < Number(next.dataset.order))) next = node;
    }
    log.insertBefore(row, next);
  }
  pane.el.rows.set(message.message_id, row);
  if (hadFocus) restoreFocus(row, hadFocus);
  markDays(pane);
  if (pane.replyTo === message.message_id) showReplyBar(pane);
  stickIfNeeded(pane);
  lookAt(pane);
}

function removeMessage(pane, messageId) {
  const row = pane.el.rows.get(messageId);
  if (!row) return;
  const hadFocus = row.contains(document.activeElement);
  row.remove();
  pane.el.rows.delete(messageId);
  markDays(pane);
  if (pane.replyTo === messageId) cancelReply(pane, false);
  if (hadFocus) pane.el.input.focus();
}

// Keep keyboard focus on "the same" control when a message is redrawn (an edit after a press).
function focusPath(root, node) {
  const all = [...root.querySelectorAll("button, a, [tabindex]")];
  const index = all.indexOf(node);
  return index >= 0 ? { index, text: node.textContent } : null;
}

function restoreFocus(root, path) {
  const all = [...root.querySelectorAll("button, a, [tabindex]")];
  const same = all.find((n) => n.textContent === path.text && !n.disabled) || all[Math.min(path.index, all.length - 1)];
  if (same) same.focus({ preventScroll: true });
  else root.closest(".pane")?.querySelector(".composer-input")?.focus({ preventScroll: true });
}

function markDays(pane) {
  let previous = null;
  for (const row of pane.el.log.children) {
    const chip = row.querySelector(":scope > .day-chip");
    const day = row.dataset.day;
    if (chip) chip.hidden = !day || day === previous;
    if (day) previous = day;
  }
}

function stickIfNeeded(pane) {
  if (!pane.stick) return;
  const log = pane.el.log;
  log.scrollTop = log.scrollHeight;
}

function scrollToEnd(pane) {
  pane.stick = true;
  stickIfNeeded(pane);
}

// ---- replying, sending, uploading ------------------------------------------------------------

function startReply(pane, messageId) {
  pane.replyTo = messageId;
  showReplyBar(pane);
  pane.el.input.focus();
}

function showReplyBar(pane) {
  const message = chatMessages(pane.chat).get(pane.replyTo);
  if (!message) return cancelReply(pane, false);
  pane.el.replyQuote.replaceChildren(renderQuote(message));
  pane.el.replyBar.hidden = false;
}

function cancelReply(pane, focus) {
  pane.replyTo = null;
  pane.el.replyBar.hidden = true;
  pane.el.replyQuote.replaceChildren();
  if (focus) pane.el.input.focus();
}

async function send(pane) {
  const input = pane.el.input;
  const text = input.value;
  if (!text.trim()) {
    input.focus();
    return;
  }
  const body = { as: pane.as, chat: pane.chat, text };
  if (pane.replyTo != null) body.reply_to = pane.replyTo;
  const replyTo = pane.replyTo;
  input.value = "";
  autosize(input);
  cancelReply(pane, false);
  scrollToEnd(pane);
  const result = await post("/demo/send", body);
  if (!result.ok) {
    showError(pane, result.error);
    if (!input.value) {
      input.value = text;
      autosize(input);
      if (replyTo != null && chatMessages(pane.chat).has(replyTo)) startReply(pane, replyTo);
    }
  }
}

async function upload(pane, file) {
  const kind = file.type.startsWith("image/") ? "photo" : file.type.startsWith("audio/") ? "voice" : "document";
  const query = new URLSearchParams({ as: String(pane.as), chat: String(pane.chat), kind, name: file.name || "file" });
  const caption = pane.el.input.value.trim();
  if (caption && kind !== "voice") query.set("caption", caption);
  // WhatsApp sends a file without quoting a message
  if (pane.replyTo != null && !pane.whatsapp) query.set("reply_to", String(pane.replyTo));
  if (caption && kind !== "voice") {
    pane.el.input.value = "";
    autosize(pane.el.input);
  }
  cancelReply(pane, false);
  scrollToEnd(pane);
  const result = await post(`/demo/upload?${query}`, file, true);
  if (!result.ok) showError(pane, result.error);
}

// ---- notices: errors, toasts, alerts -------------------------------------------------------

function flash(node, text, ms) {
  clearTimeout(node._timer);
  node.replaceChildren(words(text));
  node.classList.add("shown");
  node._timer = setTimeout(() => {
    node.classList.remove("shown");
    node.textContent = "";
  }, ms);
}

function showError(pane, text) {
  flash(pane.el.error, text, 5000);
}

function showToast(pane, text) {
  flash(pane.el.toast, text, 3000);
}

function showAlert(pane, text) {
  const layer = pane.el.dialogLayer;
  const returnTo = document.activeElement;
  const textId = `alert-${++paneCounter}`;
  const ok = h("button", { type: "button", class: "primary" }, words(t("ok")));
  const dialog = h(
    "div",
    { class: "alert", role: "alertdialog", "aria-modal": "true", "aria-describedby": textId, "aria-labelledby": textId },
    h("p", { id: textId, class: "alert-text", dir: "auto", text }),
    h("div", { class: "alert-actions" }, ok),
  );
  const closeDialog = () => {
    dialog.remove();
    if (!layer.children.length) {
      layer.hidden = true;
      pane.el.section.classList.remove("has-dialog");
    }
    const back = returnTo && document.contains(returnTo) ? returnTo : pane.el.input;
    back.focus({ preventScroll: true });
  };
  ok.addEventListener("click", closeDialog);
  dialog.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      closeDialog();
    } else if (event.key === "Tab") {
      event.preventDefault(); // one control: focus stays on it
      ok.focus();
    }
  });
  layer.append(dialog);
  layer.hidden = false;
  pane.el.section.classList.add("has-dialog");
  ok.focus();
}

// ---- events from the server ------------------------------------------------------------------

function onSnapshot(event) {
  state.messages = new Map();
  for (const [chat, list] of Object.entries(event.chats || {})) {
    const map = chatMessages(chat);
    for (const message of list || []) map.set(message.message_id, message);
  }
  applyWorld(event.world);

  if (!state.restored) {
    state.restored = true;
    restorePanes();
  } else {
    // a reconnection: drop the panes of chats that are gone, redraw the others
    for (const pane of [...state.panes]) {
      if (!chatInfo(pane.chat)) {
        state.panes.splice(state.panes.indexOf(pane), 1);
        pane.el.section.remove();
      }
    }
    remember();
  }
  for (const pane of state.panes) {
    refreshPaneChrome(pane);
    renderLog(pane);
  }
  updateEmpty();
  renderDirectory();
}

function restorePanes() {
  let saved = null;
  try {
    saved = JSON.parse(localStorage.getItem(STORE_KEY) || "null");
  } catch {
    saved = null;
  }
  if (!Array.isArray(saved)) {
    const spesa = (state.world.chats || []).find((c) => c.kind === "group" && c.title === "Spesa solidale");
    const volunteer = people("volunteer")[0];
    saved = [];
    if (spesa) saved.push({ chat: spesa.id, as: volunteer ? volunteer.id : null });
    if (volunteer) saved.push({ chat: volunteer.id, as: volunteer.id });
  }
  for (const entry of saved) {
    if (!entry || !chatInfo(entry.chat) || paneOf(entry.chat)) continue;
    openPane(entry.chat, { as: entry.as });
  }
  remember();
}

function onMessage(event) {
  const chat = String(event.chat);
  const message = event.message;
  if (!message || message.message_id == null) return;
  const map = chatMessages(chat);
  const isNew = !map.has(message.message_id);
  map.set(message.message_id, message);
  const pane = paneOf(chat);
  if (pane) placeMessage(pane, message);
  else if (isNew && event.type === "message") {
    state.unread.set(chat, (state.unread.get(chat) || 0) + 1);
    renderDirectory();
  }
}

function onDelete(event) {
  const chat = String(event.chat);
  chatMessages(chat).delete(event.message_id);
  const pane = paneOf(chat);
  if (pane) removeMessage(pane, event.message_id);
}

function onTyping(event) {
  const pane = paneOf(event.chat);
  if (!pane) return;
  clearTimeout(pane.typing);
  pane.el.subtitle.replaceChildren(words(t("typing")));
  pane.typing = setTimeout(() => {
    pane.typing = null;
    refreshPaneChrome(pane);
  }, 4000);
}

function onToast(event) {
  const candidates = state.panes.filter((p) => String(p.chat) === String(event.chat));
  const pane = candidates.find((p) => String(p.as) === String(event.user)) || null;
  if (!pane || !event.text) return;
  if (event.alert) showAlert(pane, event.text);
  else showToast(pane, event.text);
}

function connect() {
  const source = new EventSource(withLang("/demo/events"));
  source.addEventListener("message", (raw) => {
    let event;
    try {
      event = JSON.parse(raw.data);
    } catch {
      return;
    }
    switch (event.type) {
      case "snapshot":
        onSnapshot(event);
        break;
      case "message":
      case "edit":
        onMessage(event);
        break;
      case "delete":
        onDelete(event);
        break;
      case "toast":
        onToast(event);
        break;
      case "typing":
        onTyping(event);
        break;
      case "world":
        applyWorld(event.world);
        break;
      default:
        break;
    }
  });
  source.addEventListener("open", () => document.body.classList.remove("offline"));
  source.addEventListener("error", () => document.body.classList.add("offline"));
}

// ---- the page's own controls ---------------------------------------------------------------

function setupClock() {
  const said = document.getElementById("clock-said");
  let busy = false;
  for (const button of document.querySelectorAll(".clock-step")) {
    button.addEventListener("click", async () => {
      if (busy) return;
      busy = true;
      document.body.classList.add("clock-busy");
      for (const b of document.querySelectorAll(".clock-step")) b.setAttribute("aria-disabled", "true");
      const result = await post("/demo/clock", { step: button.dataset.step });
      busy = false;
      document.body.classList.remove("clock-busy");
      for (const b of document.querySelectorAll(".clock-step")) b.removeAttribute("aria-disabled");
      flash(said, result.ok ? String(result.data.said || "") : result.error, 6000);
    });
  }
}

function setupNewResident() {
  const form = document.getElementById("new-resident");
  const name = document.getElementById("resident-name");
  const channel = document.getElementById("resident-channel");
  const language = document.getElementById("resident-language");
  const country = document.getElementById("resident-country");
  const error = document.getElementById("resident-error");
  channel.addEventListener("change", showResidentFields);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { name: name.value, channel: channel.value || "telegram" };
    if (body.channel === "whatsapp") body.country = country.value;
    else body.language = language.value;
    const result = await post("/demo/residents", body);
    if (!result.ok) {
      flash(error, result.error, 5000);
      name.focus();
      return;
    }
    const person = result.data.person;
    name.value = "";
    if (state.world && !(state.world.people || []).some((p) => String(p.id) === String(person.id))) {
      // the world event may come after this answer: know the resident already
      state.world.people = [...(state.world.people || []), person];
      state.world.chats = [...(state.world.chats || []), { id: person.id, channel: person.channel || "telegram", kind: "private", title: person.name }];
      renderDirectory();
    }
    const pane = openPane(person.id, { first: true, title: person.name });
    const container = document.getElementById("panes");
    container.scrollTo({ left: 0, behavior: "smooth" }); // the start, in either direction
    pane.el.input.focus({ preventScroll: true });
  });
}

setupClock();
setupNewResident();
connect();
