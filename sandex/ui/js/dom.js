// Small DOM and number helpers shared by the panels.

export const $ = (id) => document.getElementById(id);

// An element with properties (`class`, `text`, `data-*`, any attribute) and children.
export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "text") node.textContent = value;
    else if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children) node.append(child);
  return node;
}

// "0.01000000" -> "0.01"; "100.000" -> "100"; a string as the venue sent it, never a float.
export function trim(text) {
  if (text === undefined || text === null) return "–";
  const s = String(text);
  return s.includes(".") ? s.replace(/0+$/, "").replace(/\.$/, "") : s;
}

// The number of decimals of an increment: "0.01" -> 2, "1" -> 0.
export function decimalsOf(increment) {
  const s = trim(increment);
  return s.includes(".") ? s.length - s.indexOf(".") - 1 : 0;
}

// A number shown with `decimals` places, for sums the page computes itself.
export function fixed(value, decimals) {
  return Number(value).toFixed(Math.max(0, Math.min(decimals, 12)));
}

export function timeOf(iso) {
  return iso ? iso.slice(11, 19) : "–";
}

// Replace the rows of a table body.
export function fillTable(tbody, rows) {
  tbody.replaceChildren(...rows);
}
