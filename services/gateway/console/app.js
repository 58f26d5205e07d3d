// Peon console: plain JavaScript over the gateway's HTTP API (/v1/...), and
// nothing else. A thread's view is folded from its event stream
// (/v1/threads/{id}/events, replayed from the start and followed live), so
// text streams in as the agent writes it and the order on screen is the
// order of the stream.
"use strict";

const $ = (sel, root = document) => root.querySelector(sel);

// el builds an element: el("div", {class: "x", onclick: f}, child, "text").
function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k === "text") e.textContent = v;
    else if (v === true) e.setAttribute(k, "");
    else e.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function toast(text) {
  const t = el("div", {}, text);
  $("#toast").append(t);
  setTimeout(() => t.remove(), 6000);
}

// ---- API -----------------------------------------------------------------

let token = sessionStorage.getItem("peon-token") || "";

function authHeaders(extra = {}) {
  const h = { ...extra };
  if (token) h.Authorization = "Bearer " + token;
  return h;
}

async function askToken() {
  const dlg = $("#token-dialog");
  dlg.showModal();
  await new Promise((resolve) => dlg.addEventListener("close", resolve, { once: true }));
  token = new FormData($("#token-form")).get("token") || "";
  sessionStorage.setItem("peon-token", token);
}

// api calls the gateway; a failure throws an Error carrying the contract's
// code and message.
async function api(method, path, body) {
  for (let attempt = 0; attempt < 3; attempt++) {
    const res = await fetch(path, {
      method,
      headers: authHeaders(body ? { "Content-Type": "application/json" } : {}),
      body: body ? JSON.stringify(body) : undefined,
    });
    if (res.status === 401) {
      $("#signin").hidden = false;
      await askToken();
      continue;
    }
    const data = await res.json().catch(() => ({}));
    if (!res.ok) {
      const err = new Error((data.error && data.error.message) || res.statusText);
      err.code = data.error && data.error.code;
      err.status = res.status;
      throw err;
    }
    return data;
  }
  throw new Error("not signed in");
}

async function command(name, body) {
  try {
    const r = await api("POST", "/v1/commands/" + name, body);
    lastWrite = Math.max(lastWrite, r.last_sequence || 0);
    return r;
  } catch (e) {
    toast(`${name}: ${e.code || "error"}: ${e.message}`);
    throw e;
  }
}

// stream follows a Server-Sent Events route with fetch (so the bearer token
// travels in a header, never in a URL), resuming after a dropped connection
// from the last event id it saw. It returns a function that stops it.
function stream(path, onEvent, { after } = {}) {
  let stopped = false;
  let lastId = after;
  let controller;
  (async () => {
    let delay = 250;
    while (!stopped) {
      controller = new AbortController();
      try {
        const headers = authHeaders();
        let url = path;
        if (lastId !== undefined) headers["Last-Event-ID"] = String(lastId);
        const res = await fetch(url, { headers, signal: controller.signal });
        if (res.status === 401) { await askToken(); continue; }
        if (!res.ok) throw new Error("stream " + res.status);
        delay = 250;
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          let i;
          while ((i = buf.indexOf("\n\n")) >= 0) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            let id, type = "message", data = "";
            for (const line of block.split("\n")) {
              if (line.startsWith("id: ")) id = line.slice(4);
              else if (line.startsWith("event: ")) type = line.slice(7);
              else if (line.startsWith("data: ")) data += line.slice(6);
            }
            if (id !== undefined) lastId = Number(id);
            if (data) onEvent(type, JSON.parse(data));
          }
        }
      } catch (e) {
        if (stopped) return;
      }
      if (stopped) return;
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 5000);
    }
  })();
  return () => { stopped = true; if (controller) controller.abort(); };
}

// ---- sidebar: projects and threads, kept live -----------------------------

let projects = [];
let threads = [];
let current = null; // the open thread's view

// loadLists reads the lists; after an event, as of that event's sequence
// (min_sequence), so the lists never show less than the event said.
async function loadLists(minSeq) {
  const q = minSeq ? "?min_sequence=" + minSeq : "";
  const [p, t] = await Promise.all([api("GET", "/v1/projects" + q), api("GET", "/v1/threads" + q)]);
  projects = p.projects || [];
  threads = t.threads || [];
  renderSidebar();
}

let listTimer = 0;
let listSeq = 0;
function refreshListsSoon(seq) {
  listSeq = Math.max(listSeq, seq || 0);
  clearTimeout(listTimer);
  listTimer = setTimeout(() => loadLists(listSeq).catch(() => {}), 150);
}

// renderSidebar updates the project sections in place: a section (and
// the thread title being typed into it) survives every refresh; only its
// list of threads is rebuilt.
const sections = new Map(); // project id -> {node, name, path, list}

function renderSidebar() {
  const root = $("#projects");
  const live = projects.filter((p) => !p.deleted);
  for (const [id, sec] of sections) {
    if (!live.some((p) => p.id === id)) { sec.node.remove(); sections.delete(id); }
  }
  for (const p of live) {
    let sec = sections.get(p.id);
    if (!sec) {
      const title = el("input", { name: "title", placeholder: "what to work on", "aria-label": "Title of a new thread" });
      const form = el("form", { class: "new-thread", onsubmit: (ev) => {
        ev.preventDefault();
        newThread(p, title.value).then(() => { title.value = ""; });
      } }, title, el("button", { type: "submit" }, "New thread"));
      sec = { name: el("span"), path: el("div", { class: "path" }), list: el("ul", { class: "threads" }) };
      sec.node = el("section", { class: "project", "data-project": p.id }, el("h2", {}, sec.name), sec.path, sec.list, form);
      sections.set(p.id, sec);
      root.append(sec.node);
    }
    sec.name.textContent = p.name;
    sec.path.textContent = p.path;
    sec.list.replaceChildren(...threads.filter((t) => t.project_id === p.id && !t.deleted).map((t) =>
      el("li", {}, el("a", { href: "#/thread/" + t.id, "aria-current": current && current.id === t.id ? "page" : false },
        el("span", {}, t.title || "untitled thread"), el("span", { class: "badge " + t.status }, t.status)))));
  }
  let empty = $("#no-projects");
  if (!live.length && !empty) root.append(el("p", { class: "usage", id: "no-projects" }, "No projects yet."));
  if (live.length && empty) empty.remove();
}

// lastWrite is the sequence of the last command this page sent: reads that
// follow it wait for it (min_sequence), so the page never shows a state
// older than what the user just did.
let lastWrite = 0;

async function newThread(p, title) {
  const r = await command("thread.create", { project_id: p.id, title: title || "" });
  await loadLists(r.last_sequence);
  location.hash = "#/thread/" + r.thread_id;
}

const listEvents = new Set(["ProjectCreated", "ProjectRenamed", "ProjectDeleted", "ThreadCreated", "ThreadDeleted",
  "ThreadStatusChanged", "ThreadConfigured"]);

// ---- a thread, folded from its events -------------------------------------

class ThreadView {
  constructor(id, root) {
    this.id = id;
    this.root = root;
    this.turns = new Map();     // turn_id -> {el, items, foot, data}
    this.messages = new Map();  // message_id -> {el, text}
    this.tools = new Map();     // tool_call_id -> {el, out, state}
    this.approvals = new Map(); // request_id -> {el, turn}
    this.checkpoints = new Map(); // checkpoint_id -> {turn_id, files}
    this.ops = new Map();       // operation_id -> op
    this.usage = { input_tokens: 0, output_tokens: 0, cache_read_tokens: 0, cache_write_tokens: 0, cost_usd: 0 };
    this.status = "";
    this.info = {};
  }

  async start() {
    this.renderShell();
    try {
      const r = await api("GET", "/v1/threads/" + this.id + (lastWrite ? "?min_sequence=" + lastWrite : ""));
      this.info = r.thread || {};
      this.status = this.info.status || "";
      this.renderHead();
    } catch (e) {
      this.root.replaceChildren(el("p", { class: "error" }, e.message));
      return;
    }
    this.stop = stream("/v1/threads/" + this.id + "/events", (type, e) => this.apply(type, e), { after: 0 });
  }

  close() { if (this.stop) this.stop(); }

  renderShell() {
    this.head = el("div");
    this.transcript = el("div", { class: "transcript", "aria-live": "polite", "aria-label": "Transcript" });
    const text = el("textarea", { name: "text", required: true, "aria-label": "Message to the agent",
      placeholder: "Ask the agent… (Ctrl+Enter sends)" });
    const form = el("form", { class: "composer", onsubmit: async (ev) => {
      ev.preventDefault();
      if (!text.value.trim()) return;
      await command("turn.start", { thread_id: this.id, text: text.value });
      text.value = "";
    } }, text, el("button", { class: "primary", type: "submit" }, "Send"));
    text.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) form.requestSubmit();
    });
    this.gitList = el("ul");
    this.root.replaceChildren(this.head, this.transcript, form, this.renderGit());
  }

  renderHead() {
    const i = this.info;
    const busy = this.status === "Running" || this.status === "AwaitingApproval";
    const u = this.usage;
    this.head.replaceChildren(
      el("div", { class: "thread-head" }, el("h1", {}, i.title || "untitled thread"),
        el("span", { class: "badge " + this.status, "data-testid": "thread-status" }, this.status)),
      el("div", { class: "meta" },
        i.provider ? el("span", {}, "provider " + i.provider) : null,
        i.model ? el("span", {}, "model " + i.model) : null,
        i.runtime_mode ? el("span", {}, i.runtime_mode) : null,
        i.session && i.session.session_id ? el("span", {}, "session " + i.session.session_id) : null,
        el("span", { class: "usage" }, usageText(u))),
      el("div", { class: "actions" },
        el("button", { type: "button", disabled: !busy, onclick: () => command("turn.interrupt", { thread_id: this.id }) }, "Interrupt"),
        i.last_error ? el("span", { class: "error" }, i.last_error) : null));
  }

  renderGit() {
    const commit = el("form", { onsubmit: (ev) => { ev.preventDefault();
      const m = new FormData(ev.target).get("message");
      command("git.commit", { thread_id: this.id, message: m }).then(() => ev.target.reset()); } },
      el("label", {}, "Commit message", el("input", { name: "message", required: true })), el("button", { type: "submit" }, "Commit"));
    const branch = el("form", { onsubmit: (ev) => { ev.preventDefault();
      const f = new FormData(ev.target);
      const body = { thread_id: this.id, name: f.get("name") };
      if (f.get("base")) body.base = f.get("base");
      command("git.branch", body).then(() => ev.target.reset()); } },
      el("label", {}, "Branch", el("input", { name: "name", required: true })),
      el("label", {}, "from", el("input", { name: "base", placeholder: "HEAD" })), el("button", { type: "submit" }, "Create branch"));
    const push = el("form", { onsubmit: (ev) => { ev.preventDefault();
      const f = new FormData(ev.target);
      const body = { thread_id: this.id };
      if (f.get("branch")) body.branch = f.get("branch");
      if (f.get("remote")) body.remote = f.get("remote");
      command("git.push", body); } },
      el("label", {}, "Push branch", el("input", { name: "branch", placeholder: "last created" })),
      el("label", {}, "to", el("input", { name: "remote", placeholder: "origin" })), el("button", { type: "submit" }, "Push"));
    return el("section", { class: "git", "aria-label": "Git" }, el("h2", {}, "Git"), commit, branch, push,
      el("h3", {}, "Operations"), this.gitList);
  }

  turn(id) {
    let t = this.turns.get(id);
    if (!t) {
      const items = el("div");
      const foot = el("footer");
      const status = el("span", { class: "badge running" }, "running");
      const node = el("article", { class: "turn", "data-turn": id }, el("header", {}, el("span", {}, "turn " + id.slice(0, 8)), status), items, foot);
      t = { el: node, items, foot, status, data: { id } };
      this.turns.set(id, t);
      this.transcript.append(node);
    }
    return t;
  }

  message(id, turnId, role) {
    let m = this.messages.get(id);
    if (!m) {
      const body = el("div", { class: "msg " + role + (role === "user" ? "" : " streaming"), "data-message": id });
      let node = body;
      if (role === "thinking") node = el("details", { class: "thinking" }, el("summary", {}, "Thinking"), body);
      m = { el: body, node, text: "" };
      this.messages.set(id, m);
      this.turn(turnId).items.append(node);
    }
    return m;
  }

  append(m, text) {
    m.text += text;
    m.el.textContent = m.text;
  }

  apply(type, rec) {
    const e = rec.event || {};
    switch (type) {
      case "TurnStarted": {
        this.turn(e.turn_id);
        const m = this.message(e.message_id, e.turn_id, "user");
        this.append(m, e.text);
        break;
      }
      case "MessageAppended": this.append(this.message(e.message_id, e.turn_id, e.role || "assistant"), e.text); break;
      case "MessageChunkReceived": this.append(this.message(e.message_id, e.turn_id, "assistant"), e.delta); break;
      case "ThinkingChunkReceived": this.append(this.message(e.message_id + "/thinking", e.turn_id, "thinking"), e.delta); break;
      case "MessageCompleted": {
        const m = this.messages.get(e.message_id);
        if (m) m.el.classList.remove("streaming");
        break;
      }
      case "ToolCallStarted": this.toolStarted(e); break;
      case "ToolCallCompleted": this.toolCompleted(e); break;
      case "PendingActionRequested": this.approvalRequested(e); break;
      case "PendingActionResolved": this.approvalResolved(e); break;
      case "TurnCompleted": this.turnEnded(e.turn_id, "completed", e.stop_reason, e.usage); break;
      case "TurnInterrupted": this.turnEnded(e.turn_id, "interrupted"); break;
      case "TurnFailed": this.turnEnded(e.turn_id, "failed", "", null, e.error); break;
      case "ThreadStatusChanged":
        this.status = e.status;
        this.info.last_error = e.last_error || "";
        for (const m of this.messages.values()) if (e.status !== "Running" && e.status !== "AwaitingApproval") m.el.classList.remove("streaming");
        this.renderHead();
        break;
      case "ThreadConfigured": Object.assign(this.info, e); this.renderHead(); break;
      case "AgentSessionStarted": this.info.session = { session_id: e.session_id, status: "active" }; this.renderHead(); break;
      case "CheckpointCreated": this.checkpointCreated(e); break;
      case "CheckpointRestored": this.restored(e); break;
      case "CommitRequested": this.op(e.operation_id, { kind: "commit", detail: e.message }); break;
      case "BranchCreateRequested": this.op(e.operation_id, { kind: "branch", detail: e.name + (e.base ? " from " + e.base : "") }); break;
      case "PushRequested": this.op(e.operation_id, { kind: "push", detail: e.branch + " → " + e.remote }); break;
      case "GitOperationCompleted": this.op(e.operation_id, { status: "completed", sha: e.sha, output: e.output }); break;
      case "GitOperationFailed": this.op(e.operation_id, { status: "failed", error: e.error }); break;
      case "ThreadDeleted": this.status = "deleted"; this.renderHead(); break;
    }
  }

  toolStarted(e) {
    const out = el("pre", { class: "output" });
    const state = el("span", { class: "badge" }, "running");
    const input = e.input ? el("pre", {}, JSON.stringify(e.input, null, 2)) : null;
    const node = el("details", { class: "tool", "data-tool": e.tool_call_id },
      el("summary", {}, el("span", { class: "kind" }, e.kind || "tool"), el("strong", {}, e.name), state), input, out);
    this.tools.set(e.tool_call_id, { el: node, out, state });
    this.turn(e.turn_id).items.append(node);
  }

  toolCompleted(e) {
    const t = this.tools.get(e.tool_call_id);
    if (!t) return;
    t.out.textContent = e.output || "";
    const s = e.cancelled ? "cancelled" : e.is_error ? "error" : "done";
    t.state.textContent = s;
    t.state.className = "badge " + (s === "done" ? "completed" : "failed");
  }

  approvalRequested(e) {
    const reason = el("input", { name: "reason", placeholder: "reason (for a rejection)", "aria-label": "Reason" });
    const approve = el("button", { class: "primary", type: "button", onclick: () =>
      command("action.approve", { thread_id: this.id, request_id: e.request_id }) }, "Approve");
    const reject = el("button", { class: "danger", type: "button", onclick: () => {
      const body = { thread_id: this.id, request_id: e.request_id };
      if (reason.value) body.reason = reason.value;
      command("action.reject", body);
    } }, "Reject");
    const outcome = el("span", { class: "badge" }, "pending");
    const node = el("div", { class: "approval", role: "group", "aria-label": "Approval requested", "data-request": e.request_id },
      el("div", {}, el("strong", {}, "Approval requested"), e.kind ? " · " + e.kind : "", " ", outcome),
      e.description ? el("div", { class: "msg" }, e.description) : null,
      el("div", { class: "usage" }, "request " + e.request_id),
      el("div", { class: "buttons" }, approve, reject, reason));
    this.approvals.set(e.request_id, { el: node, outcome, buttons: [approve, reject, reason] });
    this.turn(e.turn_id).items.append(node);
  }

  approvalResolved(e) {
    const a = this.approvals.get(e.request_id);
    if (!a) return;
    a.outcome.textContent = e.resolution + (e.reason ? ": " + e.reason : "");
    a.outcome.className = "badge " + (e.resolution === "approved" ? "completed" : "failed");
    for (const b of a.buttons) b.disabled = true;
  }

  turnEnded(id, status, stopReason, usage, error) {
    const t = this.turn(id);
    t.status.textContent = status + (stopReason ? " · " + stopReason : "");
    t.status.className = "badge " + status;
    t.data.status = status;
    if (error) t.foot.append(el("div", { class: "error" }, error));
    if (usage) {
      t.foot.append(el("div", { class: "usage", "data-testid": "turn-usage" }, usageText(usage)));
      for (const k of Object.keys(this.usage)) this.usage[k] += usage[k] || 0;
      this.renderHead();
    }
  }

  checkpointCreated(e) {
    this.checkpoints.set(e.checkpoint_id, e);
    const t = this.turn(e.turn_id);
    const files = (e.files || []).map((f) => typeof f === "string" ? { path: f } : f);
    const list = el("ul", {}, ...files.map((f) => el("li", {}, f.path,
      f.kind ? el("span", { class: "kind" }, " " + f.kind) : null,
      f.additions !== undefined ? el("span", { class: "usage" }, ` +${f.additions} −${f.deletions}`) : null)));
    const diffBox = el("div");
    const show = el("button", { type: "button", onclick: () => this.showDiff(e.turn_id, diffBox, show) }, "Show diff");
    const restore = el("button", { type: "button", onclick: () => {
      if (confirm("Restore the thread (and its files) to the end of this turn?"))
        command("checkpoint.restore", { thread_id: this.id, checkpoint_id: e.checkpoint_id });
    } }, "Restore to here");
    t.foot.append(el("section", { class: "changes", "aria-label": "Changes of this turn" },
      el("strong", {}, files.length + " file" + (files.length === 1 ? "" : "s") + " changed"), list,
      el("div", { class: "actions" }, show, restore), diffBox));
  }

  async showDiff(turnId, box, button) {
    button.disabled = true;
    try {
      const d = await api("GET", `/v1/threads/${this.id}/turns/${turnId}/diff`);
      const pre = el("pre", { class: "diff", "data-testid": "diff" });
      for (const line of (d.diff || "").split("\n")) {
        const cls = line.startsWith("+") && !line.startsWith("+++") ? "add" : line.startsWith("-") && !line.startsWith("---") ? "del" : line.startsWith("@@") ? "hunk" : "";
        pre.append(el("span", { class: cls }, line + "\n"));
      }
      box.replaceChildren(pre);
      if (d.truncated) box.append(el("p", { class: "usage" }, "The diff was cut at its size limit."));
    } catch (e) {
      box.replaceChildren(el("p", { class: "error" }, e.message));
    } finally {
      button.disabled = false;
    }
  }

  restored(e) {
    // The model drops every turn after the checkpoint's turn; so does the view.
    let drop = false;
    for (const [id, t] of this.turns) {
      if (drop) { t.el.remove(); this.turns.delete(id); }
      if (id === e.turn_id) drop = true;
    }
    if (e.operation_id) this.op(e.operation_id, { kind: "restore", detail: "to turn " + (e.turn_id || "").slice(0, 8) });
  }

  op(id, change) {
    const op = Object.assign(this.ops.get(id) || { id, status: "requested" }, change);
    this.ops.set(id, op);
    if (!op.node) {
      op.node = el("li", { "data-operation": id });
      this.gitList.append(op.node);
    }
    const parts = [el("span", { class: "kind" }, op.kind || "git"), " ", op.detail || "", " ",
      el("span", { class: "badge " + op.status }, op.status),
      op.sha ? el("code", {}, " " + op.sha.slice(0, 10)) : null,
      op.error ? el("div", { class: "error" }, op.error) : null];
    op.node.replaceChildren(...parts.filter((x) => x !== null));
  }
}

function usageText(u) {
  if (!u) return "";
  const parts = [`${u.input_tokens || 0} in`, `${u.output_tokens || 0} out`];
  if (u.cache_read_tokens) parts.push(`${u.cache_read_tokens} cached`);
  if (u.reasoning_tokens) parts.push(`${u.reasoning_tokens} reasoning`);
  if (u.cost_usd) parts.push("$" + u.cost_usd.toFixed(4));
  return "tokens " + parts.join(" · ");
}

// ---- status ---------------------------------------------------------------

async function refreshHealth() {
  const pill = $("#health");
  try {
    const s = await api("GET", "/v1/status");
    pill.textContent = s.healthy ? "healthy" : `${s.problems.length} problem${s.problems.length === 1 ? "" : "s"}`;
    pill.className = "pill " + (s.healthy ? "ok" : "bad");
    return s;
  } catch (e) {
    pill.textContent = "unreachable";
    pill.className = "pill bad";
  }
}

async function showStatus(root) {
  const s = await refreshHealth();
  if (!s) return;
  const table = (head, rows) => el("table", {}, el("thead", {}, el("tr", {}, ...head.map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, ...rows.map((r) => el("tr", {}, ...r.map((c) => el("td", {}, c))))));
  const projections = Object.entries(s.projections || {}).sort();
  root.replaceChildren(
    el("h1", {}, "Status"),
    el("p", { "data-testid": "verdict" }, s.healthy ? "Everything answers and every projection is current." : "Problems: " + s.problems.join("; ")),
    el("h2", {}, "Projections"),
    table(["projection", "folded", "stream", "lag", "parked", "state"], projections.map(([n, p]) =>
      [n, p.last_folded, p.stream_last, p.lag, p.parked, p.degraded ? "degraded" + (p.reason ? ": " + p.reason : "") : "ok"])),
    el("h2", {}, "Services and hosts"),
    table(["service", "instances", "details"], (s.services || []).map((sv) => [sv.name, sv.instances.length,
      sv.instances.map((i) => Object.entries(i.metadata || {}).map(([k, v]) => k + "=" + v).join(" ")).join(" | ")])),
    el("h2", {}, "Streams"),
    table(["stream", "messages", "bytes", "last"], (s.streams || []).map((st) => [st.name, st.messages, st.bytes, st.last_seq])));
}

// ---- routing --------------------------------------------------------------

async function route() {
  const view = $("#view");
  if (current) { current.close(); current = null; }
  const [, kind, id] = location.hash.split("/");
  $("#sidebar").classList.remove("open");
  if (kind === "thread" && id) {
    current = new ThreadView(decodeURIComponent(id), view);
    renderSidebar();
    await current.start();
  } else if (kind === "status") {
    await showStatus(view);
  } else {
    view.replaceChildren(el("section", { class: "empty" }, el("h1", {}, "Peon"),
      el("p", {}, "Pick a thread on the left, or create a project and a thread to start a turn.")));
  }
}

function init() {
  $("#menu").addEventListener("click", () => {
    const open = $("#sidebar").classList.toggle("open");
    $("#menu").setAttribute("aria-expanded", String(open));
  });
  $("#signin").addEventListener("click", () => askToken().then(boot));
  $("#project-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = new FormData(ev.target);
    const r = await command("project.create", { name: f.get("name"), path: f.get("path") });
    ev.target.reset();
    $("#new-project").open = false;
    await loadLists(r.last_sequence);
  });
  window.addEventListener("hashchange", route);
  boot();
}

async function boot() {
  try {
    await loadLists();
  } catch (e) {
    toast(e.message);
    return;
  }
  // Everything new, to keep the lists and statuses live.
  stream("/v1/events", (type, rec) => {
    if (listEvents.has(type)) refreshListsSoon(rec.sequence);
  });
  refreshHealth();
  setInterval(refreshHealth, 15000);
  route();
}

init();
