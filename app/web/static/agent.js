// Agent desk: times in the browser's own zone, and the live-calls list kept fresh without a reload.
"use strict";

const REFRESH_MS = 4000;

function localTimes(root) {
  for (const el of root.querySelectorAll("time[datetime]")) {
    const moment = new Date(el.getAttribute("datetime"));
    if (isNaN(moment)) continue;
    el.textContent = el.dataset.style === "time"
      ? moment.toLocaleTimeString([], {hour: "2-digit", minute: "2-digit", second: "2-digit"})
      : moment.toLocaleString([], {dateStyle: "medium", timeStyle: "medium"});
    el.title = moment.toISOString().replace(".000", "") + " (UTC)";
  }
}

function keepFresh(section) {
  // Light polling of a server-rendered fragment: no state to get out of step, and a lost
  // session (redirected to the login form) stops it instead of pasting the form in.
  const refresh = async () => {
    try {
      const response = await fetch(section.dataset.refresh, {credentials: "same-origin", cache: "no-store"});
      if (!response.ok || response.redirected) return false;
      section.innerHTML = await response.text();
      localTimes(section);
      section.dataset.refreshedAt = String(Date.now());
    } catch (error) {
      // The server may be restarting: try again at the next tick.
    }
    return true;
  };
  const timer = setInterval(async () => { if (!(await refresh())) clearInterval(timer); }, REFRESH_MS);
}

document.addEventListener("DOMContentLoaded", () => {
  localTimes(document);
  for (const section of document.querySelectorAll("[data-refresh]")) keepFresh(section);
});
