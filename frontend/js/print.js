// The outcome documents' "Print" button. It needs JavaScript, so it starts hidden and
// is shown here; without JavaScript the "Download PDF" link does the same job.
for (const button of document.querySelectorAll("[data-mash-print]")) {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
}
