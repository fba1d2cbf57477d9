/* The owner's console: renders each snapshot pushed on /console/live; acknowledges and clears alarms. */
"use strict";

(() => {
  const { el, colorTag } = Sebiao;
  const STRINGS = {
    zh: {
      title: "作坊控制台", switch: "切换语言 Switch language", langButton: "English", logout: "退出登录",
      live: "实时", reconnecting: "重新连接中…", connecting: "连接中…", by: "您的姓名（操作人）", byHint: "例如 张师傅",
      byKept: "本机会记住您的姓名",
      alarms: "当前报警", tools: "器具位置", stations: "读卡站状态", labels: "标签健康",
      noAlarms: "没有待处理的报警", ack: "我知道了", clear: "已处理", comment: "做了什么（整改措施，跨区报警必填）",
      commentRequired: "跨区报警：请先写下做了什么（整改措施），再点“已处理”", needBy: "请填写您的姓名（操作人）",
      acked: "✓ 已有人知道", unacked: "● 还没人处理", count: (n) => `发生 ${n} 次`, evidence: "证据：该器具最近的记录",
      evidenceStation: "证据：该读卡站最后发来的记录", evidenceTag: "证据：该标签最近的记录",
      handle: "处理这条报警", close: "收起",
      confirmClear: "确定已处理完？报警将关闭，并记入今日已处理。", confirmYes: "确定已处理", confirmNo: "返回",
      ackDone: (by) => `✓ 已记下：${by} 已知道这条报警`, clearDone: (text) => `✓ 已处理：${text}`,
      summary: (n, u) => `今日待处理 ${n} 条` + (n ? `（其中 ${u} 条还没人处理）` : "（全部处理完了）"),
      summaryHandled: (k) => `今日已处理 ${k} 条`,
      handledToday: "今日已处理", noHandled: "今天还没有处理过的报警",
      handledBy: (by) => `处理人 ${by}`, handledAuto: "情况已恢复，系统自动关闭", ackedBy: (by) => `${by} 先确认`,
      system: "系统自动", trigger: "▶ 触发报警的这一步",
      lastHeard: (w) => `最后一次收到它的消息：${w}`, neverHeard: "从未收到它的消息",
      offlineHint: "请检查这个读卡站的电源和网络（Wi-Fi）。",
      triggerLine: "触发：", noEvidence: "没有相关的读卡记录",
      tech: "技术详情 / Technical details", showTech: "显示技术详情（编号）", techAlarm: "报警编号", numberHint: "报警编号：监管部门在云端看到的是同一个编号", techType: "类型代码", techTool: "器具编号",
      techTag: "标签 UID", techStation: "读卡站编号", techStations: "涉及读卡站编号", techApi: "接口",
      techNote: "原始备注",
      history: "处理记录", involved: "涉及读卡站", raised: "首次", lastAt: "最近", late: "迟到上报",
      sevShape: { critical: "▲", major: "◆", minor: "●", warning: "○" },
      tool: "器具", state: "状态", where: "位置", since: "自", home: "归属架", lastSeen: "最近读到",
      station: "读卡站", online: "在线", offline: "离线", heap: "剩余内存", rssi: "信号", readerErrors: "读卡错误",
      buffer: "待发缓存", fw: "固件", never: "从未", notReported: "未上报", kb: (n) => `${n} KB`,
      on_rack: "在架", out: "使用中", at_sink: "清洗中", unknown: "未知", awayFromHome: "不在归属架",
      rack: "器具架", sink: "清洗池", disinfect: "消毒设备", placed_rack: "放回", removed_rack: "取下", placed_sink: "放入清洗池",
      removed_sink: "离开清洗池", time: "时间", action: "动作", note: "备注", tag: "标签", days: "天数",
      staleNote: (n) => `超过 ${n} 天未读到的标签：请检查标签是否脱落、损坏或器具已不用（规定六(四)：色标不清或缺损应及时更新）。`,
      noStale: "所有标签近期都有读取", tagErrors: "读取出错的标签", noTagErrors: "读卡站未上报标签读取错误",
      errors: "错误次数", done: "已提交",
      day: "开工与收工", training: "员工培训记录", who: "受训人", topic: "培训内容", trainer: "培训人",
      missing: "缺少", notHome: "未归位", unwashed: "未清洗", undisinfected: "未消毒", noDay: "尚无开工检查或收工点检",
      noTraining: "没有培训记录", dayCol: "日期",
      opening: (d, o) => `${d} 开工检查：` + (o ? (o.ready ? "✓ 全部读卡站在线、时钟正常，器具均已归位"
        : `✗ 离线或时钟异常的读卡站 ${o.stations.filter((x) => !x.online || !x.clock_ok).length} 个，未归位器具 ${o.missing.length} 件`) : "未进行"),
      rollCall: (d, r) => `${d} 收工点检：` + (r ? `${r.missing.length ? `✗ ${r.missing.length} 件器具未通过` : "✓ 全部器具已归位、已清洗"}`
        + ` · 取用 ${r.counts.uses} 次 · 清洗 ${r.counts.washes} 次 · 消毒周期 ${r.counts.cycles_passed}/${r.counts.cycles} 合格`
        + ` · 报警 ${r.counts.alarms_raised} 个，已处理 ${r.counts.alarms_handled} 次` : "未进行"),
      hygiene: "清洗与消毒", cycle: "消毒周期", method: "方式", maxTemp: "最高温度", hold: "保持 / 要求",
      verdict: "结果", inCycle: "周期内器具", passed: "✓ 合格", failed: "✗ 未合格", noCycles: "近 24 小时没有消毒周期",
      methods: { cabinet: "消毒柜", boiling: "煮沸/蒸汽", dishwasher: "洗碗机", hot_wash: "热水清洗池" },
      todayNote: (w, d, c) => `今日清洗 ${w} 次（池边停留够时才算）· ` + (d.monitored
        ? `今日消毒周期 合格 ${d.passed}/${d.total}` : "消毒未监测（没有带温度探头的消毒设备）")
        + ` · 已贴标签器具 ${c.tools_tagged}/${c.tools_total} · 今日在线读卡站 ${c.stations_today}/${c.stations_total}`
        + ` · 今日读卡器全部在线 ${(c.covered_ms / 3600000).toFixed(1)} 小时`, sev: { critical: "严重", major: "重要", minor: "次要", warning: "提示" },
      types: { cross_zone: "跨区放置", cross_zone_wash: "跨区清洗", unwashed_return: "未清洗归位", undisinfected_return: "未消毒归位",
        overdue: "超时未归还", misplaced: "未定位存放", unknown_tag: "未登记标签", station_offline: "读卡站离线",
        station_clock: "读卡站时钟错误", roll_call: "收工点检未通过", outbox_backlog: "待发队列积压",
        sink_refused: "接收方拒绝写入", store_failed: "本地存储写入失败", station_flood: "读卡站消息过多",
        notify_failed: "告警推送失败", station_resets: "读卡站反复重启", reader_fault: "读卡器故障" },
      actions: { raised: "发生", repeated: "再次发生", acknowledged: "我知道了", cleared: "已处理" },
      gradeLabel: "监管部门分级定榜", gradeSince: (d) => `${d} 起生效`, gradeConfirmed: "云端最后核实",
      clock: "时钟", clockSet: "已校时", clockNotSet: "从未校时",
      gwSynced: (o) => `网关时钟：已与互联网时间同步${o === null ? "" : `（偏差 ${o.toFixed(1)} 毫秒）`}`,
      gwUnsynced: "网关时钟：未与互联网时间同步", gwUnknown: "网关时钟：状态未知",
      serving: (n) => `为读卡站授时（层级 ${n}）`,
      servingLocal: (n) => `按网关本机时钟为读卡站授时（层级 ${n}，请确认网关时间正确）`,
      notServing: "读卡站无法从网关校时", serverError: (e) => `授时服务未运行：${e}`,
      stationsNotSet: (names) => `时钟从未校准的读卡站：${names}`,
      enrol: "登记此标签 / enrol this tag", enrolKind: "种类", enrolColor: "颜色", enrolHome: "固定存放架",
      enrolSubmit: "登记", enrolled: (id) => `已登记为 ${id}；网关正在重启以开始跟踪，请稍候`,
      kinds: { knife: "刀具", scissors: "剪刀", cutting_board: "砧板", cloth: "抹布", brush: "刷子", container: "容器" },
      uptime: "运行时长", resets: "24 小时内重启", settings: "参数版本", update: "最近一次更新", readerFault: "读卡器故障",
      keepsResetting: "反复重启", noUpdate: "未更新过", asProvisioned: "出厂参数", settingsRefused: (e) => `未采用：${e}`,
      span: (d, h, m) => (d ? `${d} 天 ${h} 小时` : h ? `${h} 小时 ${m} 分钟` : `${m} 分钟`), listSep: "、",
      resetCount: (n, w) => `${n} 次（${w}）`, causeCount: (c, n) => `${c} ${n} 次`, updateProgress: (d, o) => `${d}/${o} 个文件`,
      causes: { power_on: "上电", hard: "硬件复位", watchdog: "看门狗", deepsleep: "休眠唤醒", soft: "软件复位", unknown: "原因未知" },
      updateStates: { refused: "未开始", downloading: "下载中", switching: "切换中", trial: "试运行",
        confirmed: "已确认", rolled_back: "已回退", failed: "失败" },
    },
    en: {
      title: "Workshop console", switch: "Switch language 切换语言", langButton: "中文", logout: "Log out",
      live: "Live", reconnecting: "Reconnecting…", connecting: "Connecting…", by: "Your name", byHint: "e.g. Zhang",
      byKept: "this device remembers your name",
      alarms: "Active alarms", tools: "Tools", stations: "Reader stations", labels: "Label health",
      noAlarms: "No alarms to handle", ack: "Got it", clear: "Handled",
      comment: "What was done (corrective action; required for cross-zone alarms)",
      commentRequired: "Cross-zone alarm: write what was done (the corrective action) first, then press Handled",
      needBy: "Fill in your name", acked: "✓ someone knows", unacked: "● nobody on it yet",
      count: (n) => `${n}×`, evidence: "Evidence: the tool's latest records", history: "History",
      evidenceStation: "Evidence: the station's last messages", evidenceTag: "Evidence: the tag's latest records",
      handle: "Handle this alarm", close: "Close",
      confirmClear: "Sure it is handled? The alarm closes and goes under handled today.", confirmYes: "Yes, handled",
      confirmNo: "Back",
      ackDone: (by) => `✓ noted: ${by} knows about this alarm`, clearDone: (text) => `✓ handled: ${text}`,
      summary: (n, u) => `To handle today: ${n}` + (n ? ` (${u} not picked up yet)` : " (all done)"),
      summaryHandled: (k) => `handled today: ${k}`,
      handledToday: "Handled today", noHandled: "No alarm handled yet today",
      handledBy: (by) => `by ${by}`, handledAuto: "the condition ended: closed automatically",
      ackedBy: (by) => `${by} acknowledged first`,
      system: "automatic", trigger: "▶ the step that raised it",
      lastHeard: (w) => `Last heard from: ${w}`, neverHeard: "Never heard from",
      offlineHint: "Check the station's power and network (Wi-Fi).",
      triggerLine: "Raised by: ", noEvidence: "No reader records for it",
      tech: "Technical details / 技术详情", showTech: "Show technical details (ids)", techAlarm: "Alarm id", numberHint: "Alarm number: the inspectors see the same number in the cloud", techType: "Type code", techTool: "Tool id",
      techTag: "Tag UID", techStation: "Station id", techStations: "Station ids involved", techApi: "API",
      techNote: "Raw note",
      sevShape: { critical: "▲", major: "◆", minor: "●", warning: "○" },
      involved: "Stations involved", raised: "first", lastAt: "latest", late: "sent late",
      tool: "Tool", state: "State", where: "Where", since: "Since", home: "Home rack", lastSeen: "Last read",
      station: "Station", online: "online", offline: "offline", heap: "Free heap", rssi: "RSSI",
      readerErrors: "Reader errors", buffer: "Buffered", fw: "Firmware", never: "never",
      notReported: "not reported", kb: (n) => `${n} KB`, on_rack: "on rack", out: "in use", at_sink: "at sink",
      unknown: "unknown", awayFromHome: "not on its home rack", rack: "rack", sink: "sink", disinfect: "disinfection station", placed_rack: "put back",
      removed_rack: "taken", placed_sink: "put in sink", removed_sink: "left sink", time: "Time", action: "Action",
      note: "Note", tag: "Tag", days: "Days",
      staleNote: (n) => `Tags not read for more than ${n} days: check the label is on, undamaged, or the tool retired (rule 6(4): renew unclear or damaged labels).`,
      noStale: "Every tag was read recently", tagErrors: "Tags with read errors",
      noTagErrors: "No station reported tag read errors", errors: "Errors", done: "done",
      day: "Opening and closing", training: "Staff training", who: "Trained", topic: "Topic", trainer: "Trainer",
      missing: "Missing", notHome: "not home", unwashed: "not washed", undisinfected: "not disinfected",
      noDay: "No opening check or roll call yet", noTraining: "No training records", dayCol: "Day",
      opening: (d, o) => `${d} opening check: ` + (o ? (o.ready ? "✓ every station online with its clock set, every tool home"
        : `✗ ${o.stations.filter((x) => !x.online || !x.clock_ok).length} stations offline or clock wrong, ${o.missing.length} tools not home`) : "not done"),
      rollCall: (d, r) => `${d} closing roll call: ` + (r ? `${r.missing.length ? `✗ ${r.missing.length} tools not in order` : "✓ every tool home and washed"}`
        + ` · ${r.counts.uses} uses · ${r.counts.washes} washes · disinfection cycles ${r.counts.cycles_passed}/${r.counts.cycles} passed`
        + ` · ${r.counts.alarms_raised} alarms, ${r.counts.alarms_handled} handled` : "not done"),
      hygiene: "Washing and disinfection", cycle: "Cycle", method: "Method", maxTemp: "Max temperature",
      hold: "Held / required", verdict: "Result", inCycle: "Tools in it", passed: "✓ passed", failed: "✗ failed",
      noCycles: "No disinfection cycle in the last 24 hours",
      methods: { cabinet: "cabinet", boiling: "boiling / steam", dishwasher: "dishwasher", hot_wash: "hot-wash sink" },
      todayNote: (w, d, c) => `${w} washes today (a real dwell at the sink) · ` + (d.monitored
        ? `disinfection cycles today: ${d.passed} of ${d.total} passed` : "disinfection not monitored (no probed station)")
        + ` · tools tagged ${c.tools_tagged}/${c.tools_total} · stations online today ${c.stations_today}/${c.stations_total}`
        + ` · all readers online ${(c.covered_ms / 3600000).toFixed(1)} h today`,
      sev: { critical: "critical", major: "major", minor: "minor", warning: "warning" },
      types: { cross_zone: "cross-zone", cross_zone_wash: "cross-zone wash", unwashed_return: "unwashed return", undisinfected_return: "undisinfected return",
        overdue: "overdue", misplaced: "misplaced", unknown_tag: "unknown tag", station_offline: "station offline",
        station_clock: "station clock wrong", roll_call: "closing roll call", outbox_backlog: "outbox backlog",
        sink_refused: "sink refused writes", store_failed: "store writes failing", station_flood: "station flooding",
        notify_failed: "alarm notifications failing", station_resets: "station keeps resetting", reader_fault: "reader fault" },
      actions: { raised: "raised", repeated: "repeated", acknowledged: "got it", cleared: "handled" },
      gradeLabel: "Grade by the regulator", gradeSince: (d) => `since ${d}`, gradeConfirmed: "last confirmed by the cloud",
      clock: "Clock", clockSet: "set", clockNotSet: "never set",
      gwSynced: (o) => `Gateway clock: synchronised with internet time${o === null ? "" : ` (offset ${o.toFixed(1)} ms)`}`,
      gwUnsynced: "Gateway clock: not synchronised with internet time", gwUnknown: "Gateway clock: state unknown",
      serving: (n) => `gives the stations their time (stratum ${n})`,
      servingLocal: (n) => `gives the stations its own clock (stratum ${n}: check the gateway's time is right)`,
      notServing: "stations cannot set their clocks from the gateway", serverError: (e) => `time server not running: ${e}`,
      stationsNotSet: (names) => `Stations whose clock was never set: ${names}`,
      enrol: "Enrol this tag / 登记此标签", enrolKind: "Kind", enrolColor: "Colour", enrolHome: "Home rack",
      enrolSubmit: "Enrol", enrolled: (id) => `Enrolled as ${id}; the gateway restarts to track it, a moment please`,
      kinds: { knife: "knife", scissors: "scissors", cutting_board: "cutting board", cloth: "cloth", brush: "brush",
        container: "container" },
      uptime: "Uptime", resets: "Resets (24 h)", settings: "Settings", update: "Last update", readerFault: "reader fault",
      keepsResetting: "keeps resetting", noUpdate: "none yet", asProvisioned: "as provisioned", settingsRefused: (e) => `not taken: ${e}`,
      span: (d, h, m) => (d ? `${d} d ${h} h` : h ? `${h} h ${m} min` : `${m} min`), listSep: ", ",
      resetCount: (n, w) => `${n} (${w})`, causeCount: (c, n) => `${c} ${n}`, updateProgress: (d, o) => `${d}/${o} files`,
      causes: { power_on: "power on", hard: "hard reset", watchdog: "watchdog", deepsleep: "deep-sleep wake",
        soft: "soft reset", unknown: "unknown" },
      updateStates: { refused: "refused", downloading: "downloading", switching: "switching", trial: "on trial",
        confirmed: "confirmed", rolled_back: "rolled back", failed: "failed" },
    },
  };
  const MEDAL = { gold: "金", silver: "银", bronze: "铜", orange: "橙" };
  const LATCHED = new Set(["cross_zone", "cross_zone_wash"]);
  const NUMERIC = new Set(["heap", "rssi", "readerErrors", "buffer", "days", "uptime"]);

  let csrf = "";
  let last = null;
  let state = "connecting";
  const cards = new Map();
  let openCard = null;  // the one alarm whose action form is open (one tap on a card opens it, closes the rest)
  const lang = Sebiao.makeLang(STRINGS, () => {
    cards.clear();
    openCard = null;
    $("alarm-list").replaceChildren();
    render();
  });
  const $ = (id) => document.getElementById(id);
  const t = (...a) => lang.t(...a);
  const en = () => lang.get() === "en";

  function showState() {
    $("live").dataset.state = state;
    $("live-text").textContent = t(state);
    $("lang").textContent = t("langButton");
  }

  function when(ms) {
    if (!ms) return el("span", { class: "muted", text: t("never") });
    return el("span", { title: Sebiao.dateTime(ms) }, `${Sebiao.clockSec(ms)} `,
      el("span", { class: "muted", text: `(${Sebiao.ago(ms, Date.now(), lang.get())})` }));
  }

  /* A station by its name (its id when it has none); the id stays in the title and, in the installer's tables,
     beside it in small type that wraps on a phone instead of being cut. */
  function stationLabel(id, name, zone, kind, showId = true) {
    return el("span", { class: "state station-label", title: name ? `${name} (${id})` : id },
      zone ? colorTag(zone, lang.get(), 18) : "", kind ? t(kind) : "", el("span", { text: name || id }),
      showId && name ? el("span", { class: "muted id", text: id }) : null);
  }

  /* A station named from the snapshot's station list (the installer's id beside it, wrapping). */
  function stationById(id) {
    const s = ((last && last.stations) || []).find((x) => x.id === id);
    return s ? stationLabel(s.id, s.name, s.zone, null) : el("span", { text: id || "—" });
  }

  function toolLabel(info, id) {
    if (!info) return el("span", { text: id || "—" });
    return el("span", { class: "state" }, colorTag(info.color, lang.get(), 18),
      el("span", { text: en() ? info.kind_en : info.kind_zh }), el("b", { text: info.id }));
  }

  function actionText(action, kind) {
    return t(`${action}_${kind || "rack"}`);
  }

  // -- alarms -----------------------------------------------------------------

  const SEV_RANK = { critical: 0, major: 1, minor: 2, warning: 3 };

  /* Most urgent first: severity, then the ones nobody has acknowledged, then the longest waiting. */
  function urgency(a, b) {
    return (SEV_RANK[a.severity] ?? 9) - (SEV_RANK[b.severity] ?? 9) || Number(a.acked) - Number(b.acked)
      || a.ts - b.ts || a.id - b.id;
  }

  function savedName() {
    try { return localStorage.getItem("sebiao-by") || ""; } catch (e) { return ""; }
  }

  /* The person's name, asked where they act and remembered on this device for every form. */
  function nameField() {
    const input = el("input", { class: "by", name: "by", type: "text", maxlength: "40", autocomplete: "name",
      placeholder: t("byHint") });
    input.value = savedName();
    input.addEventListener("change", () => {
      const by = input.value.trim();
      try { localStorage.setItem("sebiao-by", by); } catch (e) { /* not kept: fine */ }
      document.querySelectorAll("input.by").forEach((other) => { if (other !== input) other.value = by; });
    });
    return { input, label: el("label", { class: "by-field" }, el("span", { text: t("by") }), input,
      el("span", { class: "muted small", text: t("byKept") })) };
  }

  function askName(input, message) {
    const by = input.value.trim();
    if (!by) { message.error(t("needBy")); input.focus(); return null; }
    try { localStorage.setItem("sebiao-by", by); } catch (e) { /* not kept: fine */ }
    return by;
  }

  /* Two lines under a form: a refusal (p.error, role alert) and a success (p.ok, role status), never the same. */
  function messages() {
    const error = el("p", { class: "error", role: "alert" });
    const ok = el("p", { class: "ok", role: "status" });
    return { error, ok, nodes: [error, ok],
      error: (text) => { ok.textContent = ""; error.textContent = text; },
      ok: (text) => { error.textContent = ""; ok.textContent = text; },
      reset: () => { error.textContent = ""; ok.textContent = ""; } };
  }

  function alarmCard(a) {
    const card = el("article", { class: "alarm", "data-alarm": a.id, tabindex: "-1" });
    const head = el("div", { class: "alarm-head" });
    const facts = el("div", { class: "facts" });
    const details = el("details", { class: "evidence-box" });
    const tech = el("details", { class: "tech" });
    const open = el("button", { type: "button", class: "open", "data-act": "open", "aria-expanded": "false" });
    const panel = actionPanel(a);
    head.addEventListener("click", () => toggle(parts));  // the card's head is the one tap too
    open.addEventListener("click", () => toggle(parts));
    card.append(head, facts, open, panel.form, details);
    if (a.type === "unknown_tag" && a.tag) card.append(enrolForm(a));
    card.append(tech);
    const parts = { card, head, facts, details, tech, open, panel, ack: panel.ack };
    return parts;
  }

  function toggle(parts, force) {
    const show = force ?? parts.panel.form.hidden;
    if (show && openCard && openCard !== parts) toggle(openCard, false);
    parts.panel.form.hidden = !show;
    parts.open.setAttribute("aria-expanded", String(show));
    parts.open.textContent = show ? t("close") : t("handle");
    if (!show) parts.panel.cancelConfirm();
    openCard = show ? parts : openCard === parts ? null : openCard;
    if (show) {  // the name is asked first; a known name opens no keyboard (我知道了 needs no typing)
      const { input } = parts.panel;
      input.value = input.value || savedName();
      if (!input.value) input.focus({ preventScroll: true });
    }
  }

  /* Behind one tap: the name, what was done, 我知道了 (acknowledge) and 已处理 (clear), which asks once more
     (a clear is final: it goes to the record and to the inspector). */
  function actionPanel(a) {
    const { input, label } = nameField();
    const comment = el("textarea", { name: "comment", rows: "2", "aria-label": t("comment"), placeholder: t("comment") });
    const ack = el("button", { type: "button", "data-act": "ack", text: t("ack") });
    const clear = el("button", { type: "button", class: "primary", "data-act": "clear", text: t("clear") });
    const yes = el("button", { type: "button", class: "primary", "data-act": "confirm-clear", text: t("confirmYes") });
    const no = el("button", { type: "button", "data-act": "cancel-clear", text: t("confirmNo") });
    const confirm = el("div", { class: "confirm", role: "group", hidden: true },
      el("p", { text: t("confirmClear") }), yes, no);
    const message = messages();
    const buttons = el("div", { class: "buttons" }, ack, clear);
    const form = el("form", { class: "act", hidden: true }, label, comment, buttons, confirm, ...message.nodes);
    if (LATCHED.has(a.type)) form.insertBefore(el("p", { class: "required", text: t("commentRequired") }), comment);
    form.addEventListener("submit", (e) => e.preventDefault());
    const cancelConfirm = () => { confirm.hidden = true; buttons.hidden = false; };
    ack.addEventListener("click", () => act(a, "ack", input, comment, message));
    clear.addEventListener("click", () => {
      message.reset();
      if (!askName(input, message)) return;
      buttons.hidden = true;
      confirm.hidden = false;
      yes.focus();
    });
    no.addEventListener("click", () => { cancelConfirm(); clear.focus(); });
    yes.addEventListener("click", async () => { cancelConfirm(); await act(a, "clear", input, comment, message); });
    return { form, input, comment, ack, cancelConfirm, message };
  }

  /* An unknown tag becomes a tool: kind, colour (the reading station's zone first), home rack (the
     colour's first). The gateway checks and writes the config as `sebiao enroll` does, then restarts on it. */
  function enrolForm(a) {
    const stations = (last && last.stations) || [];
    const at = stations.find((s) => s.id === a.station);
    const racks = stations.filter((s) => s.kind === "rack");
    const field = (label, input) => el("label", {}, `${t(label)} `, input);
    const kind = el("select", { name: "kind" },
      ...Object.entries(t("kinds")).map(([k, name]) => el("option", { value: k, text: name })));
    const color = el("select", { name: "color" }, ...Object.entries(Sebiao.COLORS).map(([k, c]) =>
      el("option", { value: k, text: en() ? c.en : c.zh })));
    const home = el("select", { name: "home" }, ...racks.map((r) =>
      el("option", { value: r.id, text: r.name || r.id })));
    const pickHome = () => {
      const first = racks.find((r) => r.zone === color.value);
      if (first) home.value = first.id;
    };
    const label = a.label || {};  // the tag's smart label, when it has one, names its kind and colour
    if (label.kind && t("kinds")[label.kind]) kind.value = label.kind;
    color.value = Sebiao.COLORS[label.color] ? label.color : at && Sebiao.COLORS[at.zone] ? at.zone : "red";
    pickHome();
    color.addEventListener("change", pickHome);
    const name = nameField();
    const submit = el("button", { type: "submit", class: "primary", text: t("enrolSubmit") });
    const message = messages();
    const form = el("form", { class: "enrol" }, field("enrolKind", kind), field("enrolColor", color),
      field("enrolHome", home), name.label, submit, ...message.nodes);
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      message.reset();
      const by = askName(name.input, message);
      if (!by) return;
      const response = await fetch("/console/api/enrol", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify({ tag: a.tag, kind: kind.value, color: color.value, home: home.value, by, alarm: a.id }),
      });
      if (response.status === 401) { location.href = "/console/login"; return; }
      const body = await response.json();
      if (!response.ok) { message.error(body.error || `HTTP ${response.status}`); return; }
      submit.disabled = true;
      message.ok(t("enrolled", body.id));
      // the alarm is cleared with the enrolment and its card goes: the answer stays above the list
      note(t("enrolled", body.id), "enrol-note");
    });
    return el("details", { class: "enrol" }, el("summary", { text: t("enrol") }), form);
  }

  /* A line above the alarm list that stays when a card goes (an enrolment, a clear). */
  function note(text, id) {
    let line = $(id);
    if (!line) { line = el("p", { id, class: "note ok", role: "status" }); $("alarm-list").before(line); }
    line.textContent = text;
  }

  function sevBadge(severity) {
    return el("span", { class: "sev" }, el("span", { "aria-hidden": "true", text: `${t("sevShape")[severity] || "?"} ` }),
      t("sev")[severity] || severity);
  }

  function evidenceTitle(a) {
    return { station: t("evidenceStation"), tag: t("evidenceTag") }[a.evidence_of] || t("evidence");
  }

  function noteText(e) {
    const words = e.note_text ? (en() ? e.note_text.en : e.note_text.zh) : e.note;
    return [e.late ? t("late") : "", words || ""].filter(Boolean).join(" · ");
  }

  /* What the owner needs to see without opening anything: for a station that went quiet, when it was last
     heard; for a tool, the tool and the step that raised the alarm. */
  function factsOf(a) {
    const out = [];
    if (a.evidence_of === "station") {
      out.push(el("p", { class: "heard" }, a.last_heard ? t("lastHeard", "") : t("neverHeard"),
        a.last_heard ? when(a.last_heard) : null));
      if (a.type === "station_offline") out.push(el("p", { class: "muted", text: t("offlineHint") }));
      return out;
    }
    if (a.tool_info) out.push(el("p", {}, toolLabel(a.tool_info)));
    const trigger = a.evidence.find((e) => e.trigger);
    if (trigger) {
      out.push(el("p", { class: "trigger-line" }, el("span", { class: "muted", text: t("triggerLine") }),
        `${Sebiao.clockSec(trigger.ts)} ${actionText(trigger.action, trigger.station_kind)} `,
        stationLabel(trigger.station, trigger.station_name, trigger.zone, null, false)));
    }
    return out;
  }

  /* The gateway's own comments are "中文 / English" (an automatic clear's reason): the page's language only. */
  function commentText(by, comment) {
    if (!comment) return "";
    const parts = comment.split(" / ");
    const words = by === "system" && parts.length === 2 ? parts[en() ? 1 : 0] : comment;
    return ` · “${words}”`;
  }

  function historyLine(h) {
    const who = h.by === "system" ? t("system") : h.by;
    return el("li", {}, `${Sebiao.dateTime(h.at)} · ${t("actions")[h.action] || h.action} · ${who}`,
      commentText(h.by, h.comment));
  }

  /* Ids, codes and raw notes: the installer's, one tap away and closed by default. */
  function techRows(a) {
    const ids = [...new Set(a.stations_involved.map((s) => s.station))];
    const rows = [["techAlarm", `#${a.id}`], ["techType", a.type], ["techTool", a.tool], ["techTag", a.tag],
      ["techStation", a.station], ["techStations", ids.join(", ")], ["techApi", `/api/alarms/${a.id}`],
      ["techNote", a.evidence.map((e) => e.note).filter(Boolean).join(" | ")]];
    return el("dl", {}, ...rows.filter(([, v]) => v).flatMap(([k, v]) => [el("dt", { text: t(k) }),
      el("dd", { class: "code", text: v })]));
  }

  function fillAlarm(parts, a) {
    const { card, head, facts, details, tech, open, panel } = parts;
    card.dataset.severity = a.severity;
    card.dataset.acked = a.acked ? "1" : "0";
    card.dataset.type = a.type;
    panel.ack.hidden = a.acked;
    if (panel.form.hidden) open.textContent = t("handle");
    head.replaceChildren(...[
      sevBadge(a.severity),
      // the number the owner and the inspector both say ("#12"): the cloud shows it as "<workshop> #12"
      el("span", { class: "badge number", "data-number": a.id, title: t("numberHint"), text: `#${a.id}` }),
      el("span", { class: "badge", text: t("types")[a.type] || a.type }),
      el("span", { class: "badge ack-state", text: a.acked ? t("acked") : t("unacked") }),
      a.count > 1 ? el("span", { class: "badge", text: t("count", a.count) }) : null,
      el("span", { class: "muted" }, `${t("raised")} `, when(a.ts)),
      a.count > 1 ? el("span", { class: "muted" }, `${t("lastAt")} `, when(a.last_ts)) : null,
      a.late ? el("span", { class: "badge", text: t("late") }) : null,
      el("span", { class: "text", text: en() ? a.text.en : a.text.zh })].filter(Boolean));
    facts.replaceChildren(...factsOf(a));
    const wasOpen = details.open;
    const evidence = a.evidence.length ? el("div", { class: "scroll evidence" },
      gridTable(["time", "station", "action", "note"], a.evidence.map((e) => el("tr",
        { class: e.trigger ? "trigger" : null, "data-trigger": e.trigger ? "1" : null },
        el("td", { text: Sebiao.dateTime(e.ts) }),
        el("td", {}, stationLabel(e.station, e.station_name, e.zone, e.station_kind, false)),
        el("td", { text: actionText(e.action, e.station_kind) }),
        el("td", {}, e.trigger ? el("strong", { class: "trigger-mark", text: t("trigger") }) : null,
          e.trigger && noteText(e) ? " · " : "", noteText(e) || (e.trigger ? "" : "—"))))))
      : el("p", { class: "muted evidence", text: t("noEvidence") });
    const involved = el("p", {}, `${t("involved")}: `,
      ...a.stations_involved.map((s) => stationLabel(s.station, s.station_name, s.zone, s.station_kind, false)));
    const history = el("ul", { class: "history" }, ...a.history.map(historyLine));
    details.replaceChildren(el("summary", { text: `${evidenceTitle(a)} (${a.evidence.length})` }),
      evidence, involved, el("p", { text: t("history") }), history);
    details.open = wasOpen;
    const techOpen = tech.open;
    tech.replaceChildren(el("summary", { text: t("tech") }), techRows(a));
    tech.open = techOpen;
  }

  function renderSummary(s) {
    const waiting = s.alarms.filter((a) => !a.acked).length;
    const handled = (s.handled_today || []).length;
    const line = $("summary");
    line.dataset.todo = String(s.alarms.length);
    line.dataset.state = s.alarms.length ? "todo" : "done";
    line.replaceChildren(el("span", { "aria-hidden": "true", text: s.alarms.length ? "! " : "✓ " }),
      el("strong", { id: "todo", text: t("summary", s.alarms.length, waiting) }), " · ",
      el("a", { href: "#handled", text: t("summaryHandled", handled) }));
  }

  function renderAlarms(s) {
    renderSummary(s);
    $("alarm-count").textContent = s.alarms.length;
    const list = $("alarm-list");
    const seen = new Set();
    [...s.alarms].sort(urgency).forEach((a, index) => {
      seen.add(a.id);
      let parts = cards.get(a.id);
      if (!parts) { parts = alarmCard(a); cards.set(a.id, parts); }
      fillAlarm(parts, a);
      if (list.children[index] !== parts.card) list.insertBefore(parts.card, list.children[index] || null);
    });
    for (const [id, parts] of cards) {
      if (!seen.has(id)) {
        parts.card.remove();
        cards.delete(id);
        if (openCard === parts) openCard = null;
      }
    }
    const empty = list.querySelector(".empty");
    if (!s.alarms.length && !empty) list.append(el("p", { class: "empty", text: t("noAlarms") }));
    if (s.alarms.length && empty) empty.remove();
    renderHandled(s.handled_today || []);
  }

  /* 今日已处理: today's cleared alarms, newest first, with who handled them and what they did. */
  function renderHandled(handled) {
    $("handled-count").textContent = handled.length;
    const list = $("handled-list");
    if (!handled.length) {
      list.replaceChildren(el("li", { class: "empty", text: t("noHandled") }));
      return;
    }
    list.replaceChildren(...handled.map((h) => el("li", { "data-alarm": h.id, "data-by": h.cleared_by || "" },
      el("span", { class: "done-mark", "aria-hidden": "true", text: "✓" }),
      el("span", { class: "when", text: Sebiao.clock(h.cleared_at) }), sevBadge(h.severity),
      el("span", { class: "badge", text: t("types")[h.type] || h.type }),
      el("span", { class: "text", text: en() ? h.text.en : h.text.zh }),
      el("span", { class: "who" }, !h.cleared_by || h.cleared_by === "system" ? t("handledAuto")
        : t("handledBy", h.cleared_by), h.acked_by && h.acked_by !== h.cleared_by ? ` · ${t("ackedBy", h.acked_by)}` : "",
      commentText(h.cleared_by, h.comment)))));
  }

  async function act(a, verb, input, comment, message) {
    message.reset();
    const by = askName(input, message);
    if (!by) return;
    const response = await fetch(`/console/api/alarms/${a.id}/${verb}`, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({ by, comment: comment.value.trim() || null }),
    });
    if (response.status === 401) { location.href = "/console/login"; return; }
    const body = await response.json();
    if (!response.ok) { message.error(body.error || `HTTP ${response.status}`); return; }
    if (verb === "clear") {
      comment.value = "";
      note(t("clearDone", en() ? body.text.en : body.text.zh), "action-note");  // the card goes: said above the list
    } else {
      message.ok(t("ackDone", by));
    }
  }

  // -- tables ---------------------------------------------------------------------

  function tableParts(headers, rows) {
    for (const row of rows) {  // phones show each row as a card: every cell says what it is
      [...row.children].forEach((cell, i) => { cell.dataset.label = t(headers[i]); });
    }
    return [el("thead", {}, el("tr", {}, ...headers.map((h) => el("th",
      { scope: "col", class: NUMERIC.has(h) ? "num" : null, text: t(h) })))), el("tbody", {}, ...rows)];
  }

  function gridTable(headers, rows) {
    return el("table", { class: "grid" }, ...tableParts(headers, rows));
  }

  function table(id, headers, rows) {
    $(id).replaceChildren(...tableParts(headers, rows));
  }

  function renderTools(s) {
    table("tool-table", ["tool", "state", "where", "since", "home", "lastSeen"], s.tools.map((x) => el("tr",
      { "data-tool": x.id, "data-state": x.state },
      el("td", {}, toolLabel(x)),
      el("td", {}, el("span", { class: `state ${x.state === "unknown" ? "warn" : ""}`, text: t(x.state) }),
        x.away_from_home ? el("span", { class: "badge", text: t("awayFromHome") }) : null),
      el("td", {}, x.station ? stationLabel(x.station, x.station_name, x.station_zone) : "—"),
      el("td", {}, when(x.since)), el("td", {}, stationById(x.home)), el("td", {}, when(x.last_seen)))));
  }

  function num(value, format) {
    if (value === null || value === undefined) return el("span", { class: "muted", text: t("notReported") });
    return format ? format(value) : String(value);
  }

  /* A mark and its words: colour is never the only signal. */
  function mark(kind, symbol, text) {
    return el("span", { class: `state ${kind}` }, el("span", { "aria-hidden": "true", text: symbol }), text);
  }

  function span(seconds) {
    const m = Math.floor(seconds / 60);
    return t("span", Math.floor(m / 1440), Math.floor(m / 60) % 24, m % 60);
  }

  /* Boots in the last 24 h by cause; "▲ keeps resetting" while its station_resets alarm is active. */
  function resetsCell(x, alarmed) {
    const causes = Object.entries(x.resets_24h || {}).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    const total = causes.reduce((n, [, c]) => n + c, 0);
    const words = causes.map(([c, n]) => t("causeCount", t("causes")[c] || c, n)).join(t("listSep"));
    return el("td", { "data-resets": String(total) }, el("span", {}, alarmed ? mark("bad", "▲", t("keepsResetting")) : null,
      alarmed ? " " : null, total ? t("resetCount", total, words) : "0"));
  }

  function updateCell(u) {
    if (!u) return el("td", { "data-update": "" }, el("span", { class: "muted", text: t("noUpdate") }));
    const bad = u.state === "failed" || u.state === "rolled_back";
    const kind = u.state === "confirmed" ? ["ok", "✓"] : bad ? ["bad", "✗"] : ["warn", u.state === "refused" ? "!" : "…"];
    const progress = u.state === "downloading" && u.done !== null && u.of !== null ? ` ${t("updateProgress", u.done, u.of)}` : "";
    return el("td", { "data-update": u.state || "" }, el("span", {}, `${u.version || "?"} `,
      mark(kind[0], kind[1], `${t("updateStates")[u.state] || u.state || "?"}${progress}`),
      u.error ? el("span", { class: "muted", text: ` ${u.error}` }) : null));
  }

  function renderStations(s) {
    renderClock(s);
    const alarmed = new Set(s.alarms.map((a) => `${a.type}:${a.station}`));
    table("station-table", ["station", "state", "lastSeen", "heap", "rssi", "readerErrors", "buffer", "fw", "clock",
      "uptime", "resets", "settings", "update"],
      s.stations.map((x) => el("tr", { "data-station": x.id, "data-online": x.online ? "1" : "0" },
        el("td", {}, stationLabel(x.id, x.name, x.zone, x.kind)),
        el("td", { "data-reader": x.reader_ok === false ? "fault" : "" }, el("span", { class: `state ${x.online ? "ok" : "bad"}` },
          el("span", { "aria-hidden": "true", text: x.online ? "●" : "○" }), t(x.online ? "online" : "offline")),
          x.reader_ok === false ? mark("bad", "✗", t("readerFault")) : null),
        el("td", {}, when(x.last_seen)),
        el("td", { class: "num" }, num(x.heap_free, (v) => t("kb", Math.round(v / 1024)))),
        el("td", { class: "num" }, num(x.rssi, (v) => `${v} dBm`)),
        el("td", { class: "num" }, num(x.reader_errors)),
        el("td", { class: "num" }, num(x.buffer_depth)),
        el("td", {}, num(x.fw)),
        el("td", { "data-clock": String(x.clock_synced) }, x.clock_synced === null
          ? el("span", { class: "muted", text: t("notReported") })
          : el("span", { class: `state ${x.clock_synced ? "ok" : "bad"}` },
            el("span", { "aria-hidden": "true", text: x.clock_synced ? "✓" : "✗" }),
            t(x.clock_synced ? "clockSet" : "clockNotSet"))),
        el("td", { class: "num" }, num(x.uptime_s, span)),
        resetsCell(x, alarmed.has(`station_resets:${x.id}`)),
        el("td", {}, el("span", {}, x.settings === "" ? t("asProvisioned") : num(x.settings), x.settings_error ? " " : null,
          x.settings_error ? mark("bad", "✗", t("settingsRefused", x.settings_error)) : null)),
        updateCell(x.update))));
  }

  // One line: the gateway's own clock, whether its answers set the stations' clocks, and who was never set.
  function renderClock(s) {
    const c = s.clock;
    const own = c.synchronised === null ? t("gwUnknown") : c.synchronised ? t("gwSynced", c.offset_ms) : t("gwUnsynced");
    let serving = t("notServing");
    if (c.error) serving = t("serverError", c.error);
    else if (c.serving && c.usable) serving = c.synchronised ? t("serving", c.stratum) : t("servingLocal", c.stratum);
    const good = c.synchronised === true && c.serving && c.usable;
    const notSet = s.stations.filter((x) => x.clock_synced === false).map((x) => x.name || x.id);
    const line = $("clock-line");
    line.dataset.state = good ? "ok" : "warn";
    line.replaceChildren(...[el("span", { "aria-hidden": "true", text: good ? "✓ " : "! " }), `${own} · ${serving}`,
      notSet.length ? el("strong", { text: ` · ${t("stationsNotSet", notSet.join(en() ? ", " : "、"))}` }) : null]
      .filter(Boolean));  // replaceChildren would write a null as the word "null"
  }

  function renderLabels(s) {
    const labels = s.labels;
    $("labels-note").textContent = labels.stale.length ? t("staleNote", labels.stale_days) : t("noStale");
    table("label-table", ["tool", "tag", "lastSeen", "days"], labels.stale.map((x) => el("tr", { "data-stale": x.tool },
      el("td", {}, toolLabel(x, x.tool)), el("td", { text: x.tag }), el("td", {}, when(x.last_seen)),
      el("td", { class: "num", text: x.days === null ? "—" : x.days }))));
    const errors = $("tag-errors");
    if (!labels.errors.length) {
      errors.replaceChildren(el("p", { class: "note", text: t("noTagErrors") }));
      return;
    }
    const rows = labels.errors.map((x) => el("tr", {}, el("td", {}, x.tool ? colorTag(x.color, lang.get(), 18) : "",
      ` ${x.tool || "?"}`), el("td", { text: x.tag }), el("td", { text: x.station_name || x.station }),
    el("td", { class: "num", text: x.count })));
    errors.replaceChildren(el("h3", { text: t("tagErrors") }),
      el("div", { class: "scroll" }, gridTable(["tool", "tag", "station", "errors"], rows)));
  }

  // The display's claims as the owner sees them, and each disinfection cycle with its verdict in words and a
  // symbol (never by colour alone).
  function renderHygiene(s) {
    if (!s.today) return;
    $("today-note").textContent = t("todayNote", s.today.washes, s.today.disinfection, s.today.coverage);
    const cycles = s.cycles || [];
    if (!cycles.length) {
      $("cycle-table").replaceChildren(el("caption", { text: t("noCycles") }));
      return;
    }
    table("cycle-table", ["time", "station", "method", "maxTemp", "hold", "verdict", "inCycle"],
      cycles.map((c) => el("tr", { "data-cycle": c.ts, "data-passed": c.passed ? "1" : "0" },
        el("td", {}, when(c.ts)),
        el("td", {}, stationLabel(c.station.station, c.station.station_name, c.station.zone, c.station.station_kind)),
        el("td", { text: t("methods")[c.method] || c.method }),
        el("td", { class: "num", text: `${c.max_temp_c.toFixed(1)} °C` }),
        el("td", { class: "num", text: `${c.hold_s} s / ${c.hold_required_s} s ≥ ${c.temp_c} °C` }),
        el("td", {}, el("span", { class: `state ${c.passed ? "ok" : "bad"}`, text: t(c.passed ? "passed" : "failed") })),
        el("td", { text: c.tools.join(", ") || "—" }))));
  }

  // The grade the regulator published, as the display shows it (only one the cloud signed and confirmed
  // lately), with the date it took effect and when the cloud last confirmed it; or why there is none.
  function renderGrade(g) {
    const line = $("grade");
    line.dataset.state = g.grade_state;
    line.dataset.grade = g.grade || "";
    const words = en() ? g.grade_en : g.grade_zh;
    const parts = [el("span", { class: "muted", text: `${t("gradeLabel")}${en() ? ": " : "："}` })];
    if (g.grade) {
      parts.push(el("span", { class: "medal", "aria-hidden": "true", text: MEDAL[g.grade] }), " ",
        el("b", { text: words }), ` · ${t("gradeSince", g.grade_effective)}`);
    } else {
      parts.push(el("span", { text: words }));
    }
    if (g.grade_confirmed_at) parts.push(` · ${t("gradeConfirmed")} `, when(g.grade_confirmed_at));
    line.replaceChildren(...parts);
  }

  // The newest day's opening check and roll call (what is missing in words, not colour alone), and training.
  function renderDay(s) {
    const d = s.day;
    $("opening-note").textContent = d ? t("opening", d.day, d.opening) : t("noDay");
    $("roll-call-note").textContent = d ? t("rollCall", d.day, d.roll_call) : "";
    const missing = d && d.roll_call ? d.roll_call.missing : [];
    table("missing-table", ["tool", "home", "where", "missing"], missing.map((m) => el("tr", { "data-missing": m.tool },
      el("td", {}, colorTag(m.color, lang.get(), 18), ` ${m.tool}`), el("td", {}, stationById(m.home)),
      el("td", {}, m.where ? stationById(m.where) : "—"),
      el("td", { text: [m.not_home && t("notHome"), m.unwashed && t("unwashed"), m.undisinfected && t("undisinfected")]
        .filter(Boolean).join(en() ? ", " : "、") }))));
    const training = s.training || [];
    if (!training.length) {
      $("training-table").replaceChildren(el("caption", { text: t("noTraining") }));
      return;
    }
    table("training-table", ["dayCol", "who", "topic", "trainer"], training.map((r) => el("tr", { "data-training": r.who },
      el("td", { text: r.day }), el("td", { text: r.who }), el("td", { text: r.topic }), el("td", { text: r.by }))));
  }

  function render() {
    lang.apply();
    showState();
    if (!last) return;
    $("ws-name").textContent = last.workshop.name;
    renderGrade(last.grade);
    renderAlarms(last);
    renderTools(last);
    renderStations(last);
    renderLabels(last);
    renderHygiene(last);
    renderDay(last);
  }

  /* The sticky header's height, for the sections' scroll-margin: a tab's heading lands below it, not under it. */
  function watchBar() {
    const bar = document.querySelector(".bar");
    const set = () => document.documentElement.style.setProperty("--bar-h", `${bar.offsetHeight}px`);
    set();
    if (window.ResizeObserver) new ResizeObserver(set).observe(bar);
  }

  /* The installer's ids in the tables: hidden for the owner (each name's title still holds its id), shown on
     this device once asked for. */
  function techToggle() {
    const box = $("show-tech");
    const apply = () => document.body.classList.toggle("show-tech", box.checked);
    try { box.checked = localStorage.getItem("sebiao-tech") === "1"; } catch (e) { /* not kept: hidden */ }
    apply();
    box.addEventListener("change", () => {
      apply();
      try { localStorage.setItem("sebiao-tech", box.checked ? "1" : "0"); } catch (e) { /* not kept: fine */ }
    });
  }

  function setState(next) {
    if (state !== next) { state = next; showState(); }
  }

  async function session() {
    const response = await fetch("/console/api/session", { credentials: "same-origin" });
    if (response.status === 401) { location.href = "/console/login"; return false; }
    csrf = (await response.json()).csrf;
    return true;
  }

  document.addEventListener("DOMContentLoaded", async () => {
    $("lang").addEventListener("click", () => lang.set(en() ? "zh" : "en"));
    watchBar();
    techToggle();
    $("logout").addEventListener("click", async () => {
      await fetch("/console/logout", { method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": csrf } });
      location.href = "/console/login";
    });
    render();
    if (!(await session())) return;
    Sebiao.liveFeed("/console/live", (snapshot, id) => {
      last = snapshot;
      render();
      Sebiao.rendered(id);
    }, setState, session);
  });
})();
