/* The shop-front display: renders each snapshot pushed on /display/live. */
"use strict";

(() => {
  const { el, shape, colorTag } = Sebiao;
  const STRINGS = {
    zh: {
      switch: "切换语言 Switch language", langButton: "English", live: "实时", reconnecting: "重新连接中…",
      connecting: "连接中…", today: "今日概况", zones: "五个色标区", activity: "最近动态",
      washesToday: "今日清洗次数（池边停留够时）", misuseWeek: "本周跨区混用（次）",
      disinfectLabel: "今日消毒周期 合格/全部", disinfectNone: "消毒未监测",
      disinfectNoneNote: "本作坊没有带温度探头的消毒设备，读卡器无法证明已消毒",
      disinfectNote: () => "达到规定温度并保持足够时间才算合格",
      coverage: (t, s, h) => [["读卡器覆盖：已贴标签器具 ", t], [" · 今日在线读卡站 ", s],
        [" · 今日读卡器全部在线 ", h, " 小时"]],
      misuseNote: (today, handled) => `今日 ${today} 次 · 本周已整改 ${handled} 次`,
      daysLabel: "天读卡器未发现跨区放置", daysNone: "暂无记录", sinceRecords: (d) => `自 ${d} 开始记录以来`,
      lastIncident: (d) => `上次：${d}`,
      scan: "手机扫码，随时查看本作坊的色标管理",
      scanCloud: "手机扫码，任何网络都能打开本作坊的云端公开页",
      scanLan: "仅限本店网络：手机连上本店 Wi-Fi 后扫码查看", onRack: "在架", out: "使用中", atSink: "清洗中",
      unknown: "未确认", untagged: "未装标签（无法跟踪）", washes: "今日清洗", unused: "本作坊未设此区", noActivity: "今天还没有动态",
      taken: "取用", returned: "放回", washing: "清洗中", washed: "洗好取走",
      disinfecting: "放入消毒", disinfected: "消毒后取出",
      legend: "每个区域除颜色外还有自己的形状：● 红色圆形 · ◆ 蓝色菱形 · ▲ 绿色三角形 · ■ 黄色方形 · ⬢ 白色六边形",
      tools: "件器具", gradeLabel: "监管部门分级定榜", gradeSince: (d) => `${d} 起生效`, qrAlt: "本页面地址的二维码",
    },
    en: {
      switch: "Switch language 切换语言", langButton: "中文", live: "Live", reconnecting: "Reconnecting…",
      connecting: "Connecting…", today: "Today", zones: "The five colour zones", activity: "Recent activity",
      washesToday: "washes today (a real dwell at the sink)", misuseWeek: "cross-zone mix-ups this week",
      disinfectLabel: "disinfection cycles today, passed / all", disinfectNone: "disinfection not monitored",
      disinfectNoneNote: "no disinfection station with a temperature probe: the readers cannot prove it",
      disinfectNote: () => "passed: reached its temperature and held it long enough",
      coverage: (t, s, h) => [["What the readers cover: tools tagged ", t], [" · stations online today ", s],
        [" · all readers online ", h, " h today"]],
      misuseNote: (today, handled) => `${today} today · ${handled} corrected this week`,
      daysLabel: "days the readers saw no cross-zone placement", daysNone: "no records yet",
      sinceRecords: (d) => `since records began on ${d}`, lastIncident: (d) => `last: ${d}`,
      scan: "Scan to follow this workshop's colour-coded tools on your phone",
      scanCloud: "Scan: this workshop's public page on the cloud opens on any network",
      scanLan: "Shop network only: join the shop's Wi-Fi, then scan", onRack: "on rack", out: "in use",
      atSink: "at sink", unknown: "not yet seen", untagged: "without a tag (not tracked)", washes: "washes today", unused: "not used in this workshop",
      noActivity: "no activity yet today", taken: "taken", returned: "put back", washing: "being washed",
      washed: "washed", disinfecting: "into disinfection", disinfected: "out of disinfection", legend: "Every zone has its own shape as well as its colour: ● red circle · ◆ blue diamond · "
        + "▲ green triangle · ■ yellow square · ⬢ white hexagon",
      tools: "tools", gradeLabel: "Grade by the regulator", gradeSince: (d) => `since ${d}`, qrAlt: "QR code of this page's address",
    },
  };
  const KIND_EN = { knife: "knife", scissors: "scissors", cutting_board: "cutting board", cloth: "cloth",
    brush: "brush", container: "container" };
  const KIND_ZH = { knife: "刀具", scissors: "剪刀", cutting_board: "砧板", cloth: "抹布", brush: "刷子",
    container: "容器" };
  const MEDAL = { gold: "金", silver: "银", bronze: "铜", orange: "橙" };

  let last = null;
  let state = "connecting";
  const lang = Sebiao.makeLang(STRINGS, () => { render(); showState(); });
  const $ = (id) => document.getElementById(id);

  function showState() {
    $("live").dataset.state = state;
    $("live-text").textContent = lang.t(state);
    $("lang").textContent = lang.t("langButton");
    $("qr").setAttribute("alt", lang.t("qrAlt"));
  }

  function renderHeader(s) {
    const en = lang.get() === "en";
    $("ws-name").textContent = s.workshop.name;
    $("ws-title").textContent = `${en ? s.workshop.title_en : s.workshop.title_zh} · ${s.workshop.district}`;
    document.title = `${s.workshop.name} · ${en ? s.workshop.title_en : s.workshop.title_zh}`;
    renderGrade(s.workshop);
  }

  // The grade the regulator published, as the cloud signed it, with the date it took effect; none: said so.
  function renderGrade(w) {
    const en = lang.get() === "en";
    const grade = $("grade");
    grade.dataset.grade = w.grade || "";
    const since = w.grade && w.grade_effective
      ? el("small", { class: "grade-since", text: lang.t("gradeSince", w.grade_effective) }) : "";
    grade.replaceChildren(
      el("span", { class: "medal", "aria-hidden": "true", text: MEDAL[w.grade] || "—" }),
      el("span", {}, el("small", { text: lang.t("gradeLabel") }), en ? w.grade_en : w.grade_zh, since));
  }

  function renderStats(s) {
    const en = lang.get() === "en";
    const inc = s.incident;
    $("days").textContent = inc.days === null ? "—" : inc.days;
    $("days-label").textContent = inc.days === null ? lang.t("daysNone") : lang.t("daysLabel");
    $("days-note").textContent = inc.days === null ? ""
      : inc.none_recorded ? lang.t("sinceRecords", Sebiao.date(inc.records_since))
        : lang.t("lastIncident", Sebiao.date(inc.since));
    $("washes").textContent = s.washes_today;
    const misuse = $("stat-misuse");
    misuse.hidden = !s.misuse;
    if (s.misuse) {
      $("misuse-week").textContent = s.misuse.week;
      $("misuse-note").textContent = lang.t("misuseNote", s.misuse.today, s.misuse.week_handled);
    }
    void en;
  }

  // What the readers saw of disinfection and how much of the workshop they cover: the claims above hold for
  // this much and no more.
  function renderEvidence(s) {
    const d = s.disinfection;
    const box = $("stat-disinfect");
    box.dataset.monitored = d && d.monitored ? "yes" : "no";
    if (d && d.monitored) {
      $("disinfect").textContent = `${d.passed}/${d.total}`;
      $("disinfect-label").textContent = lang.t("disinfectLabel");
      $("disinfect-note").textContent = lang.t("disinfectNote");
    } else {
      $("disinfect").textContent = "—";
      $("disinfect-label").textContent = lang.t("disinfectNone");
      $("disinfect-note").textContent = lang.t("disinfectNoneNote");
    }
    const c = s.coverage;
    if (!c) return;
    const hours = (ms) => (ms / 3600000).toFixed(1);
    const parts = lang.t("coverage", `${c.tools_tagged}/${c.tools_total}`, `${c.stations_today}/${c.stations_total}`,
      `${hours(c.covered_ms)}/${hours(c.day_ms)}`);
    $("coverage").replaceChildren(...parts.flatMap(([before, value, after]) =>
      [before, el("b", { class: "num", text: value }), after || ""]));
  }

  function renderZones(s) {
    const en = lang.get() === "en";
    const list = $("zones");
    list.replaceChildren(...s.zones.map((z) => {
      const item = el("li", { class: `zone zone-${z.key}${z.used ? "" : " unused"}`, "data-zone": z.key });
      item.style.setProperty("--zone", z.hex);
      const head = el("div", { class: "zone-head" }, shape(z.shape, z.hex, 58, lang.get()),
        el("div", { class: "zone-color", text: en ? `${z.symbol} ${z.en} · ${shapeName(z.shape)}`
          : `${z.symbol} ${z.zh} · ${z.shape_zh}` }),
        el("div", { class: "zone-name", text: en ? z.name_en : z.name_zh }));
      item.append(head);
      if (!z.used) {
        item.append(el("div", { class: "unused-note", text: lang.t("unused") }));
        return item;
      }
      const counts = el("ul", { class: "counts" });
      for (const [key, label] of [["on_rack", "onRack"], ["out", "out"], ["at_sink", "atSink"]]) {
        counts.append(el("li", { "data-count": key },
          el("span", { class: "k", text: lang.t(label) }),
          el("span", { class: "n num", text: z.tools[key] })));
      }
      item.append(counts);
      const unknown = (z.tools.unknown ? ` · ${z.tools.unknown} ${lang.t("unknown")}` : "")
        + (z.tools.untagged ? ` · ${z.tools.untagged} ${lang.t("untagged")}` : "");
      item.append(el("div", { class: "zone-washes" }, `${lang.t("washes")} `,
        el("b", { class: "num", "data-count": "washes", text: z.washes_today }),
        ` · ${z.total} ${lang.t("tools")}${unknown}`));
      return item;
    }));
  }

  function shapeName(key) {
    return { circle: "circle", diamond: "diamond", triangle: "triangle", square: "square", hexagon: "hexagon" }[key];
  }

  function renderActivity(s) {
    const en = lang.get() === "en";
    const list = $("activity");
    if (!s.activity.length) {
      list.replaceChildren(el("li", { class: "empty", text: lang.t("noActivity") }));
      return;
    }
    list.replaceChildren(...s.activity.map((a) => el("li", { "data-action": a.action },
      el("span", { class: "t", text: Sebiao.clock(a.ts) }),
      colorTag(a.color, lang.get(), 24),
      el("span", { text: en ? KIND_EN[a.kind] : KIND_ZH[a.kind] }),
      el("span", { text: lang.t(a.action) }))));
  }

  // What the QR code carries, said under it: the workshop's public page on the cloud (any network), or an
  // address on the shop's own network only (no cloud, or the gateway has not learnt the page's address yet).
  function renderQr(s) {
    const qr = s.qr || { source: "configured", url: null };
    $("qr-fig").dataset.source = qr.source;
    $("qr-caption").dataset.t = qr.source === "cloud" ? "scanCloud" : qr.source === "lan" ? "scanLan" : "scan";
    const src = "/display/qr.svg" + (qr.url ? "?u=" + encodeURIComponent(qr.url) : "");
    if ($("qr").getAttribute("src") !== src) $("qr").setAttribute("src", src);
  }

  function render() {
    if (last) renderQr(last);
    lang.apply();
    showState();
    if (!last) return;
    renderHeader(last);
    renderStats(last);
    renderEvidence(last);
    renderZones(last);
    renderActivity(last);
  }

  function setState(next) {
    if (state !== next) { state = next; showState(); }
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("lang").addEventListener("click", () => lang.set(lang.get() === "en" ? "zh" : "en"));
    render();
    Sebiao.liveFeed("/display/live", (snapshot, id) => {
      last = snapshot;
      render();
      Sebiao.rendered(id);
    }, setState);
  });
})();
