// sohoa web UI: the only script the pages load (served by the binary, no CDN).
// Uploads scans through the API, refreshes live parts of a page, re-queues a failed batch.
"use strict";
(function () {
  const form = document.getElementById("upload-form");
  if (form) {
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const out = document.getElementById("upload-result");
      const data = new FormData();
      for (const f of document.getElementById("file").files) data.append("file", f, f.name);
      out.textContent = "Đang tải lên…";
      try {
        const r = await fetch("/api/v1/batches", { method: "POST", body: data, credentials: "same-origin" });
        const body = await r.json();
        if (r.status === 202) {
          out.textContent = "Đã nhận: " + body.batches.map((b) => b.batch_id + (b.duplicate ? " (đã có)" : "")).join(", ");
          out.dataset.batches = body.batches.map((b) => b.batch_id).join(" ");
          form.reset();
          refresh();
        } else {
          out.textContent = "Lỗi: " + (body.error ? body.error.message : r.status);
        }
      } catch (e) {
        out.textContent = "Lỗi: " + e;
      }
    });
  }

  // Elements with data-refresh="URL" are replaced by the server's fragment every 2 s.
  async function refresh() {
    for (const el of document.querySelectorAll("[data-refresh]")) {
      try {
        const r = await fetch(el.dataset.refresh, { credentials: "same-origin" });
        if (r.ok) el.innerHTML = await r.text();
      } catch (e) {
        /* the next round tries again */
      }
    }
  }
  if (document.querySelector("[data-refresh]")) setInterval(refresh, 2000);

  // A batch still queued or running: the page reloads until it is finished.
  if (document.body.dataset.live === "1") setTimeout(() => location.reload(), 3000);

  for (const b of document.querySelectorAll("[data-requeue]")) {
    b.addEventListener("click", async () => {
      const r = await fetch("/api/v1/batches/" + encodeURIComponent(b.dataset.requeue) + "/requeue", { method: "POST", credentials: "same-origin" });
      if (r.ok) location.reload();
      else b.textContent = "Không xử lý lại được (" + r.status + ")";
    });
  }
})();
