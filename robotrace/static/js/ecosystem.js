// The business-ecosystem graph (campaigns/ecosystem.html). The page gives the JSON address and
// the campaign link prefix in data- attributes of #graph; labels are drawn on a canvas by
// Cytoscape, never inserted as HTML.
(function () {
  "use strict";

  const COLOURS = { campaign: "#1f5fa8", caller_id: "#98a2b3", callback: "#f79009", provider: "#067647", customer: "#b42318" };
  const graph = document.getElementById("graph");
  const form = document.getElementById("ecosystem-form");
  if (!graph || !form) return;
  let cy = null;
  // Cytoscape injects a <style> (".__________cytoscape_container { position: relative }")
  // unless an element with this id exists; the CSP refuses inline styles, and .graph in
  // robotrace.css already is position: relative.
  if (!document.getElementById("__________cytoscape_stylesheet")) {
    const marker = document.createElement("meta");
    marker.id = "__________cytoscape_stylesheet";
    document.head.appendChild(marker);
  }

  function size(e) {
    return e.data("kind") === "campaign" ? 14 + Math.min(40, Math.sqrt(e.data("weight") || 1) * 2) : 10;
  }

  function load() {
    const n = document.getElementById("n").value;
    fetch(graph.dataset.source + "?campaigns=" + encodeURIComponent(n), { credentials: "same-origin" })
      .then((r) => r.json())
      .then((data) => {
        const c = data.counts;
        document.getElementById("summary").textContent = `${c.campaign || 0} campaigns · ${c.provider || 0} providers · ${c.caller_id || 0} caller IDs · ` +
          `${c.callback || 0} callback numbers · ${c.customer || 0} customers · ${data.linked_campaigns.length} groups of linked campaigns`;
        if (cy) cy.destroy();
        cy = window.cytoscape({
          container: graph,
          elements: data.elements,
          style: [
            { selector: "node", style: { "background-color": (e) => COLOURS[e.data("kind")] || "#667085", label: "data(label)", "font-size": 8, color: "#1c2430", width: size, height: size } },
            { selector: "node[kind = 'caller_id']", style: { label: "", shape: "diamond" } },
            { selector: "node[kind = 'caller_id'][?shared]", style: { label: "data(label)", "background-color": "#6941c6" } },
            { selector: "node[kind = 'provider']", style: { shape: "round-rectangle" } },
            { selector: "node[kind = 'customer']", style: { shape: "star" } },
            { selector: "edge", style: { width: (e) => 1 + Math.min(6, Math.log10(1 + (e.data("weight") || 1)) * 2), "line-color": "#d0d5dd", "curve-style": "haystack" } },
            { selector: "edge[kind = 'upstream'], edge[kind = 'originated_for']", style: { "line-color": "#b42318", "target-arrow-shape": "triangle", "curve-style": "bezier" } },
          ],
          layout: { name: document.getElementById("layout").value, animate: false, nodeRepulsion: 9000, idealEdgeLength: 60 },
        });
        cy.on("tap", "node[kind = 'campaign']", (ev) => {
          window.location = graph.dataset.campaigns + encodeURIComponent(ev.target.data("url_id")) + "/";
        });
      });
  }

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    load();
  });
  load();
})();
