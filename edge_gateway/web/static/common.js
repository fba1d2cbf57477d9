/* Shared by the display and the console: language, live feed, shapes, times. No external code. */
"use strict";

const Sebiao = (() => {
  const SHAPES = {
    circle: '<circle cx="50" cy="50" r="42"/>',
    diamond: '<polygon points="50,5 95,50 50,95 5,50"/>',
    triangle: '<polygon points="50,7 95,90 5,90"/>',
    square: '<rect x="9" y="9" width="82" height="82"/>',
    hexagon: '<polygon points="50,5 89,27.5 89,72.5 50,95 11,72.5 11,27.5"/>',
  };
  const SHAPE_NAMES = {
    circle: ["圆形", "circle"], diamond: ["菱形", "diamond"], triangle: ["三角形", "triangle"],
    square: ["方形", "square"], hexagon: ["六边形", "hexagon"],
  };
  const COLORS = {
    red: { zh: "红色", en: "red", hex: "#C62828", shape: "circle", symbol: "●" },
    blue: { zh: "蓝色", en: "blue", hex: "#1565C0", shape: "diamond", symbol: "◆" },
    green: { zh: "绿色", en: "green", hex: "#2E7D32", shape: "triangle", symbol: "▲" },
    yellow: { zh: "黄色", en: "yellow", hex: "#F9A825", shape: "square", symbol: "■" },
    white: { zh: "白色", en: "white", hex: "#FFFFFF", shape: "hexagon", symbol: "⬢" },
  };
  const SVG_NS = "http://www.w3.org/2000/svg";

  /* The zone's shape filled with its colour, outlined so it shows on any background, with a text name. */
  function shape(name, hex, size, lang) {
    const svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "0 0 100 100");
    svg.setAttribute("width", size);
    svg.setAttribute("height", size);
    svg.setAttribute("class", "shape");
    svg.setAttribute("role", "img");
    const names = SHAPE_NAMES[name] || [name, name];
    svg.setAttribute("aria-label", lang === "en" ? names[1] : names[0]);
    svg.innerHTML = SHAPES[name] || SHAPES.circle;
    const body = svg.firstChild;
    body.setAttribute("fill", hex);
    body.setAttribute("stroke", "#e2e8f0");
    body.setAttribute("stroke-width", "6");
    body.setAttribute("stroke-linejoin", "round");
    return svg;
  }

  /* ?lang= first, then the saved choice, then Chinese. */
  function initialLang() {
    const asked = new URLSearchParams(location.search).get("lang");
    if (asked === "en" || asked === "zh") return asked;
    try {
      const saved = localStorage.getItem("sebiao-lang");
      if (saved === "en" || saved === "zh") return saved;
    } catch (e) { /* storage refused (private mode): Chinese */ }
    return "zh";
  }

  function makeLang(strings, onChange) {
    let lang = initialLang();
    const api = {
      get: () => lang,
      t: (key, ...args) => {
        const entry = (strings[lang] || {})[key] ?? (strings.zh || {})[key] ?? key;
        return typeof entry === "function" ? entry(...args) : entry;
      },
      set: (next) => {
        lang = next;
        try { localStorage.setItem("sebiao-lang", lang); } catch (e) { /* not kept: fine */ }
        api.apply();
        onChange(lang);
      },
      apply: () => {
        document.documentElement.lang = lang === "en" ? "en" : "zh-CN";
        document.querySelectorAll("[data-t]").forEach((el) => { el.textContent = api.t(el.dataset.t); });
        document.querySelectorAll("[data-t-label]").forEach((el) => {
          el.setAttribute("aria-label", api.t(el.dataset.tLabel));
        });
        document.querySelectorAll("[data-t-placeholder]").forEach((el) => {
          el.setAttribute("placeholder", api.t(el.dataset.tPlaceholder));
        });
      },
    };
    return api;
  }

  /* An EventSource that reconnects by itself. The browser resends Last-Event-ID on its own
     retries; after a hard failure a new EventSource gets the latest snapshot on connect. */
  function liveFeed(url, onSnapshot, onState, onClosed) {
    let source = null;
    let timer = null;
    function open() {
      source = new EventSource(url);
      source.addEventListener("hello", () => onState("live"));
      source.addEventListener("snapshot", (event) => {
        onState("live");
        onSnapshot(JSON.parse(event.data), event.lastEventId);
      });
      source.onerror = () => {
        onState("reconnecting");
        if (source.readyState === EventSource.CLOSED) {
          clearTimeout(timer);
          timer = setTimeout(() => { if (onClosed) onClosed(); open(); }, 2000);
        }
      };
    }
    open();
    return { close: () => { clearTimeout(timer); if (source) source.close(); } };
  }

  function pad(n) { return String(n).padStart(2, "0"); }
  function clock(ms) {
    const d = new Date(ms);
    return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  }
  function clockSec(ms) { return `${clock(ms)}:${pad(new Date(ms).getSeconds())}`; }
  function dateTime(ms) {
    const d = new Date(ms);
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${clockSec(ms)}`;
  }
  function date(ms) {
    const d = new Date(ms);
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  }
  function ago(ms, now, lang) {
    const s = Math.max(0, Math.round((now - ms) / 1000));
    if (lang === "en") {
      if (s < 60) return `${s} s ago`;
      if (s < 3600) return `${Math.floor(s / 60)} min ago`;
      if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
      return `${Math.floor(s / 86400)} d ago`;
    }
    if (s < 60) return `${s} 秒前`;
    if (s < 3600) return `${Math.floor(s / 60)} 分钟前`;
    if (s < 86400) return `${Math.floor(s / 3600)} 小时前`;
    return `${Math.floor(s / 86400)} 天前`;
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  /* A colour named in words with its symbol and shape: never the colour alone. */
  function colorTag(key, lang, size) {
    const c = COLORS[key];
    if (!c) return el("span", { text: key });
    return el("span", { class: `color-tag color-${key}` }, shape(c.shape, c.hex, size || 22, lang),
      el("span", { text: lang === "en" ? c.en : c.zh }));
  }

  /* Records each render for tests and the latency benchmark (no effect on the page). */
  function rendered(id) {
    const mark = window.sebiaoRendered || { count: 0 };
    mark.count += 1;
    mark.id = id;
    mark.at = Date.now();
    window.sebiaoRendered = mark;
  }

  return { shape, makeLang, liveFeed, clock, clockSec, dateTime, date, ago, el, colorTag, rendered, COLORS };
})();
