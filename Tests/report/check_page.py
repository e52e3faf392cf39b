#!/usr/bin/env python3
"""Loads a page in headless Chromium over the DevTools protocol (a pipe, no port) and
prints what a test needs as JSON: console errors and uncaught exceptions, every
network request other than the page itself (a file:// report must make none), the
numbers the page shows (its data-* attributes), and screenshots at desktop and phone
widths. Optional: --wait-change N waits up to N seconds for the report's
`data-generated` time to change (the live dashboard's update) and reports the
numbers again.

Usage: check_page.py URL SCREENSHOT_PREFIX [--wait-ready] [--wait-change SECONDS]
                     [--before-wait COMMAND] [--expect-requests N]
--wait-ready waits (10 s at most) until the page shows its numbers (the dashboard's
first rendering arrives by its event stream); --expect-requests makes --wait-change wait
for the requests card to read N.
"""
import base64
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time

EXTRACT = r"""
(() => {
  const cards = {};
  for (const el of document.querySelectorAll('[data-metric]')) cards[el.dataset.metric] = el.dataset.value;
  const panels = {};
  for (const section of document.querySelectorAll('section.panel')) {
    panels[section.id] = [...section.querySelectorAll('tr[data-key]')].map(tr => ({...tr.dataset}));
  }
  const generated = document.querySelector('[data-generated]');
  return {cards, panels, generated: generated ? generated.dataset.generated : null,
          filters: (document.querySelector('[data-filters]') || {dataset: {}}).dataset.filters || null,
          title: document.title, width: document.documentElement.scrollWidth,
          viewport: window.innerWidth, svgs: document.querySelectorAll('svg.chart').length};
})()
"""


class Chrome:
    def __init__(self):
        self.profile = tempfile.mkdtemp(prefix="companion-chrome-")
        to_chrome_read, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_write = os.pipe()
        # The protocol pipe is fds 3 (commands in) and 4 (replies out) in the child.
        low = [os.dup(fd) for fd in (to_chrome_read, from_chrome_write)]

        def child_fds():
            os.dup2(low[0], 3)
            os.dup2(low[1], 4)

        self.log = open(os.path.join(self.profile, "chrome.log"), "w")
        self.process = subprocess.Popen(
            ["chromium", "--headless=new", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
             "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", f"--user-data-dir={self.profile}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log, preexec_fn=child_fds, pass_fds=(3, 4) + tuple(low))
        for fd in [to_chrome_read, from_chrome_write] + low:
            os.close(fd)
        self.buffer = b""
        self.next_id = 0
        self.events = []

    def send(self, method, params=None, session=None):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.to_chrome, json.dumps(message).encode() + b"\0")
        while True:
            reply = self.read()
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    def read(self, timeout=30):
        deadline = time.time() + timeout
        while b"\0" not in self.buffer:
            left = deadline - time.time()
            if left <= 0 or not select.select([self.from_chrome], [], [], left)[0]:
                raise TimeoutError("no message from Chromium")
            chunk = os.read(self.from_chrome, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed the pipe")
            self.buffer += chunk
        raw, self.buffer = self.buffer.split(b"\0", 1)
        message = json.loads(raw)
        if "method" in message:
            self.events.append(message)
        return message

    def wait_for(self, method, timeout=30):
        deadline = time.time() + timeout
        while True:
            for index, event in enumerate(self.events):
                if event["method"] == method:
                    return self.events.pop(index)
            self.read(max(0.1, deadline - time.time()))

    def close(self):
        try:
            self.send("Browser.close")
        except Exception:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)


def main():
    url, prefix = sys.argv[1], sys.argv[2]
    wait_change = float(sys.argv[sys.argv.index("--wait-change") + 1]) if "--wait-change" in sys.argv else None
    before_wait = sys.argv[sys.argv.index("--before-wait") + 1] if "--before-wait" in sys.argv else None
    chrome = Chrome()
    result = {"console_errors": [], "requests": [], "screenshots": []}
    try:
        target = chrome.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = chrome.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ["Page", "Runtime", "Network", "Log"]:
            chrome.send(f"{domain}.enable", session=session)
        chrome.send("Emulation.setDeviceMetricsOverride", {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False}, session)
        chrome.send("Page.navigate", {"url": url}, session)
        chrome.wait_for("Page.loadEventFired")
        result["page"] = chrome.send("Runtime.evaluate", {"expression": EXTRACT, "returnByValue": True}, session)["result"]["value"]
        if "--wait-ready" in sys.argv:
            deadline = time.time() + 10
            while not result["page"]["cards"] and time.time() < deadline:
                time.sleep(0.05)
                result["page"] = chrome.send("Runtime.evaluate", {"expression": EXTRACT, "returnByValue": True}, session)["result"]["value"]
        # The folder may not exist yet: the first test to take a screenshot on a fresh machine
        # is not always the one that used to create it.
        os.makedirs(os.path.dirname(prefix) or ".", exist_ok=True)
        for name, width, height, mobile, scale in [("desktop", 1280, 900, False, 1), ("phone", 390, 844, True, 2)]:
            chrome.send("Emulation.setDeviceMetricsOverride", {"width": width, "height": height, "deviceScaleFactor": scale, "mobile": mobile}, session)
            layout = chrome.send("Runtime.evaluate", {"expression": "[document.documentElement.scrollWidth, window.innerWidth]", "returnByValue": True}, session)
            result[f"{name}_widths"] = layout["result"]["value"]
            shot = chrome.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}, session)
            path = f"{prefix}-{name}.png"
            with open(path, "wb") as f:
                f.write(base64.b64decode(shot["data"]))
            result["screenshots"].append(path)
            if mobile:
                # What a phone shows first, at a size a person can read.
                shot = chrome.send("Page.captureScreenshot", {"format": "png"}, session)
                path = f"{prefix}-{name}-first-screen.png"
                with open(path, "wb") as f:
                    f.write(base64.b64decode(shot["data"]))
                result["screenshots"].append(path)
        chrome.send("Emulation.setDeviceMetricsOverride", {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False}, session)
        if wait_change is not None:
            if before_wait:
                subprocess.run(before_wait, shell=True, check=True)
            started = time.time()
            first = result["page"]["generated"]
            first_requests = result["page"]["cards"].get("requests")
            expected = sys.argv[sys.argv.index("--expect-requests") + 1] if "--expect-requests" in sys.argv else None
            while time.time() - started < wait_change:
                page = chrome.send("Runtime.evaluate", {"expression": EXTRACT, "returnByValue": True}, session)["result"]["value"]
                requests = page["cards"].get("requests")
                if page["generated"] != first and (requests == expected if expected else requests != first_requests):
                    result["updated"] = page
                    result["update_seconds"] = time.time() - started
                    break
                time.sleep(0.05)
        # Drain what arrived meanwhile.
        try:
            while True:
                chrome.read(timeout=0.3)
        except (TimeoutError, RuntimeError):
            pass
        for event in chrome.events:
            method, params = event["method"], event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                result["console_errors"].append(" ".join(str(a.get("value", a.get("description"))) for a in params.get("args", [])))
            elif method == "Runtime.exceptionThrown":
                result["console_errors"].append(params["exceptionDetails"].get("text", "exception"))
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                result["console_errors"].append(params["entry"].get("text", ""))
            elif method == "Network.requestWillBeSent":
                request_url = params["request"]["url"]
                if request_url != url:
                    result["requests"].append(request_url)
    finally:
        chrome.close()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
