"""One browserless Streamlit session: the frontend's wire protocol, from ``streamlit.proto``.

The browser opens ``/_stcore/stream`` (subprotocol ``streamlit``), sends a ``BackMsg`` whose
``rerun_script`` is a ``ClientState`` (query string, page name, widget states), and the server
streams ``ForwardMsg``s: ``new_session``, deltas, ``script_finished``. A widget change is a new
``rerun_script`` carrying every widget's state with the changed one's new value, as the frontend
sends it. Widget ids and their current values come from the deltas of the previous run.
"""
from __future__ import annotations

import html
import re
import select
import time
import urllib.parse
from dataclasses import dataclass, field

import websocket                                     # websocket-client (locust's gevent patches it)
from streamlit.proto import BackMsg_pb2, ForwardMsg_pb2

# A user's tag ("qz0042"), only as a word of its own: charts carry their arrays as base64 text, in
# which "qz" and four digits turn up by chance (about once per 7 million characters): that made
# the soak's first run report 5 "leaks" in 1,514 interactions that were base64, not another user.
TAG = re.compile(r"(?<![A-Za-z0-9+/])qz\d{4}(?![A-Za-z0-9+/=])")
CLICK = object()          # the value a button "has" when pressed: a trigger
FINISHED_OK = {ForwardMsg_pb2.ForwardMsg.FINISHED_SUCCESSFULLY,
               ForwardMsg_pb2.ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY}


@dataclass
class Run:
    seconds: float
    status: str                       # "ok", "error" (script error / exception delta), "timeout"
    exceptions: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)    # every string shown (markdown, labels, values)
    widgets: dict[str, tuple[str, str]] = field(default_factory=dict)   # label -> (kind, id)
    values: dict[str, object] = field(default_factory=dict)            # id -> value shown
    options: dict[str, list[str]] = field(default_factory=dict)        # label -> a selectbox's options

    def tags(self, pattern: re.Pattern) -> set[str]:
        """Every match of ``pattern`` in what the run showed, read as a person reads it: HTML tags
        (and their attributes) dropped, entities unescaped, the token pills' visible-space
        marks (·) read as spaces and the pills joined, so a tag split across tokens still counts."""
        found = set()
        for text in self.text:
            found |= set(pattern.findall(text))
            found |= set(pattern.findall(visible_text(text)))
        return found


def visible_text(markup: str) -> str:
    """The text of ``markup`` as shown: tags dropped, entities unescaped, · read as a space."""
    return html.unescape(re.sub(r"<[^>]*>", "", markup)).replace("·", " ").replace("\u00b7", " ")


def _element_text(el, out: list[str]) -> None:
    kind = el.WhichOneof("type")
    body = getattr(el, kind) if kind else None
    for name in ("body", "label", "value", "default", "placeholder", "help", "spec"):
        v = getattr(body, name, None)
        if isinstance(v, str) and v:
            out.append(v)


class Session:
    """A Streamlit session over one websocket; ``rerun`` returns a Run."""

    def __init__(self, base_url: str, cookie: str | None = None, timeout: float = 120):
        self.url = base_url.replace("http://", "ws://").rstrip("/") + "/_stcore/stream"
        self.headers = [f"Cookie: atlas_replica={cookie}"] if cookie else []
        self.timeout = timeout
        self.ws = self._connect()
        self.widgets: dict[str, tuple[str, str]] = {}
        self.values: dict[str, object] = {}
        self.options: dict[str, list[str]] = {}
        self.session_id = ""
        self.query = ""                  # the link the page was opened with (the address bar)
        self.resumed = False             # reconnected: the next run goes to a fresh server session

    def _connect(self):
        return websocket.create_connection(self.url, subprotocols=["streamlit"], header=self.headers,
                                           timeout=self.timeout, http_proxy_host=None, enable_multithread=True)

    def alive(self) -> bool:
        """Whether the socket is still open, as the browser knows from its close event: between runs
        the server sends nothing, so anything readable now is the close (or a stray frame, read)."""
        try:
            while select.select([self.ws.sock], [], [], 0)[0]:
                self.ws.settimeout(1)
                self.ws.recv()
            return self.ws.connected
        except (websocket.WebSocketException, OSError, AttributeError, ValueError):
            return False

    def reconnect(self) -> None:
        """What Streamlit's frontend does when its socket drops: open a new one (the same cookie, so
        nginx picks the replica, or the next live one) and keep its widgets. The server side is a
        fresh session; the next run carries the link and a widget value, as the frontend's does."""
        self.close()
        self.ws = self._connect()
        self.session_id, self.resumed = "", True

    def close(self) -> None:
        try:
            self.ws.close()
        except Exception:  # noqa: BLE001 - closing a dead socket
            pass

    def _send(self, query: str, page: str, states: dict) -> None:
        msg = BackMsg_pb2.BackMsg()
        cs = msg.rerun_script
        cs.query_string = query
        cs.page_name = page
        for wid, v in states.items():
            w = cs.widget_states.widgets.add()
            w.id = wid
            if v is CLICK:
                w.trigger_value = True
            elif isinstance(v, bool):
                w.bool_value = v
            elif isinstance(v, (int, float)):          # sliders send their value(s) as doubles
                w.double_array_value.data.append(float(v))
            else:
                w.string_value = str(v)
        self.ws.send_binary(msg.SerializeToString())

    def _collect(self, t0: float) -> Run:
        run = Run(0.0, "ok")
        deadline = t0 + self.timeout
        while True:
            self.ws.settimeout(max(0.1, deadline - time.perf_counter()))
            try:
                data = self.ws.recv()
            except websocket.WebSocketTimeoutException:
                run.status, run.seconds = "timeout", time.perf_counter() - t0
                return run
            if isinstance(data, str):
                continue
            fm = ForwardMsg_pb2.ForwardMsg()
            fm.ParseFromString(data)
            kind = fm.WhichOneof("type")
            if kind == "new_session":
                self.session_id = fm.new_session.initialize.session_id or self.session_id
            elif kind == "delta" and fm.delta.WhichOneof("type") == "new_element":
                el = fm.delta.new_element
                ek = el.WhichOneof("type")
                if ek == "exception":
                    run.exceptions.append(el.exception.message[:200])
                    run.status = "error"
                _element_text(el, run.text)
                body = getattr(el, ek) if ek else None
                wid = getattr(body, "id", "")
                if wid and hasattr(body, "label"):
                    run.widgets[body.label] = (ek, wid)
                    if ek in ("text_input", "text_area"):
                        run.values[wid] = body.value if body.HasField("value") else body.default
                    elif ek == "slider" and len(body.default) == 1:
                        run.values[wid] = (int if body.data_type == body.INT else float)(
                            body.value[0] if body.value else body.default[0])
                    elif ek in ("selectbox", "radio") and body.HasField("default"):
                        run.values[wid] = int(body.default)
                    if ek in ("selectbox", "radio"):
                        run.options[body.label] = list(body.options)
            elif kind == "script_finished":
                if fm.script_finished == ForwardMsg_pb2.ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    continue                  # the app asked for a rerun (st.rerun): wait for that one
                run.seconds = time.perf_counter() - t0
                if fm.script_finished not in FINISHED_OK:
                    run.status = "error"
                    run.exceptions.append(f"script_finished {fm.script_finished}")
                self.widgets.update(run.widgets)
                self.values.update(run.values)
                self.options.update(run.options)
                return run

    def open(self, page: str = "", query: dict | None = None) -> Run:
        """The first run of a page, as a fresh browser tab sends it."""
        t0 = time.perf_counter()
        self.query = urllib.parse.urlencode(query or {})
        self._send(self.query, page, {})
        return self._collect(t0)

    def click(self, label: str, page: str = "", query: str = "") -> Run:
        """Press the button labelled ``label`` (a trigger, as the frontend sends it)."""
        return self.change(label, CLICK, page, query)

    def change(self, label: str, value, page: str = "", query: str = "") -> Run:
        """Set the widget labelled ``label`` to ``value`` and rerun (the time is to script_finished)."""
        kind, wid = self.widgets[label]
        t0 = time.perf_counter()
        if self.resumed:                          # a fresh server session: the address bar's link too
            query, self.resumed = query or self.query, False
        # Only the changed widget: the others keep their session-state values on the server.
        self._send(query, page, {wid: value})
        return self._collect(t0)
