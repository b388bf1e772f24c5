// The API reference page: reads /api/v1/openapi.json and lists every operation by resource.
// Text goes in with textContent only, so nothing in the document can become markup.
(function () {
  "use strict";
  var script = document.currentScript;
  var specUrl = (script && script.dataset.spec) || "/api/v1/openapi.json";

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function resolve(spec, schema) {
    if (schema && schema.$ref) {
      var parts = schema.$ref.replace(/^#\//, "").split("/");
      var found = spec;
      parts.forEach(function (p) { found = found && found[p]; });
      return found || schema;
    }
    return schema || {};
  }

  // A schema as a short, readable outline: type, limits, then its properties indented.
  function describe(spec, schema, depth) {
    schema = resolve(spec, schema);
    var bits = [];
    var type = schema.type;
    if (Array.isArray(type)) type = type.join(" | ");
    if (schema.anyOf) type = "one of";
    if (type) bits.push(type);
    if (schema.enum) bits.push("one of: " + schema.enum.join(", "));
    if (schema.format) bits.push(schema.format);
    if (schema.maxLength !== undefined) bits.push("≤ " + schema.maxLength + " chars");
    if (schema.minimum !== undefined && schema.maximum !== undefined && type === "integer")
      bits.push(schema.minimum + " … " + schema.maximum);
    if (schema.maxItems !== undefined) bits.push("≤ " + schema.maxItems + " items");
    if (schema.description) bits.push("— " + schema.description);
    var lines = [bits.join(", ")];
    var pad = "  ".repeat(depth + 1);
    if (depth > 4) return lines;
    if (schema.properties) {
      var required = schema.required || [];
      Object.keys(schema.properties).forEach(function (name) {
        var inner = describe(spec, schema.properties[name], depth + 1);
        var mark = required.indexOf(name) >= 0 ? " (required)" : "";
        lines.push(pad + name + mark + ": " + inner[0]);
        lines.push.apply(lines, inner.slice(1));
      });
    }
    if (schema.items) {
      var items = describe(spec, schema.items, depth + 1);
      lines.push(pad + "items: " + items[0]);
      lines.push.apply(lines, items.slice(1));
    }
    if (schema.anyOf) {
      schema.anyOf.forEach(function (option) {
        var inner = describe(spec, option, depth + 1);
        lines.push(pad + "- " + inner[0]);
        lines.push.apply(lines, inner.slice(1));
      });
    }
    return lines;
  }

  function operation(spec, method, path, op) {
    var box = el("section", "op");
    box.id = op.operationId || method + path;
    var head = el("h3");
    head.appendChild(el("span", "method " + method, method.toUpperCase()));
    head.appendChild(el("code", "path", path));
    box.appendChild(head);
    if (op.summary) box.appendChild(el("p", "summary", op.summary));
    box.appendChild(el("p", "auth", op.description || "No API key needed."));
    if (op.parameters && op.parameters.length) {
      var table = el("table");
      var row = el("tr");
      ["parameter", "in", "schema"].forEach(function (h) { row.appendChild(el("th", null, h)); });
      table.appendChild(row);
      op.parameters.forEach(function (p) {
        var tr = el("tr");
        tr.appendChild(el("td", null, p.name + (p.required ? " *" : "")));
        tr.appendChild(el("td", null, p["in"]));
        var text = describe(spec, p.schema, 0)[0];
        tr.appendChild(el("td", null, text + (p.description ? " — " + p.description : "")));
        table.appendChild(tr);
      });
      box.appendChild(table);
    }
    if (op.requestBody) {
      Object.keys(op.requestBody.content).forEach(function (media) {
        box.appendChild(el("h4", null, "Body (" + media + ")"));
        var schema = op.requestBody.content[media].schema;
        box.appendChild(el("pre", null, describe(spec, schema, 0).join("\n")));
      });
    }
    var list = el("ul", "responses");
    Object.keys(op.responses).forEach(function (status) {
      var reply = op.responses[status];
      var media = reply.content ? " (" + Object.keys(reply.content).join(", ") + ")" : "";
      list.appendChild(el("li", null, status + " " + reply.description + media));
    });
    box.appendChild(el("h4", null, "Responses"));
    box.appendChild(list);
    return box;
  }

  function render(spec) {
    var main = document.getElementById("apidocs");
    main.textContent = "";
    main.appendChild(el("h1", null, spec.info.title + " " + spec.info.version));
    main.appendChild(el("p", null, spec.info.description));
    var error = describe(spec, spec.components.schemas.Error, 0).join("\n");
    main.appendChild(el("h2", null, "Errors"));
    main.appendChild(el("pre", null, error));
    var byTag = {};
    Object.keys(spec.paths).forEach(function (path) {
      Object.keys(spec.paths[path]).forEach(function (method) {
        var op = spec.paths[path][method];
        var tag = (op.tags && op.tags[0]) || "other";
        (byTag[tag] = byTag[tag] || []).push(operation(spec, method, path, op));
      });
    });
    var nav = el("nav");
    Object.keys(byTag).sort().forEach(function (tag) {
      var link = el("a", null, tag);
      link.href = "#tag-" + tag;
      nav.appendChild(link);
    });
    main.appendChild(nav);
    Object.keys(byTag).sort().forEach(function (tag) {
      var section = el("section", "tag");
      section.id = "tag-" + tag;
      section.appendChild(el("h2", null, tag));
      byTag[tag].forEach(function (box) { section.appendChild(box); });
      main.appendChild(section);
    });
  }

  fetch(specUrl, { credentials: "same-origin" })
    .then(function (r) { return r.json(); })
    .then(render)
    .catch(function (err) {
      document.getElementById("apidocs").appendChild(el("p", "error", "Could not load: " + err));
    });
})();
