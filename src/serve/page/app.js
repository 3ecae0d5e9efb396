"use strict";
const q = document.getElementById("q"), out = document.getElementById("hits");
q.addEventListener("input", async () => {
  const r = await fetch("/search?q=" + encodeURIComponent(q.value));
  const j = await r.json();
  out.textContent = r.ok ? j.hits.map(h => h.title + ": " + h.snippet).join("\n") : j.error;
});
