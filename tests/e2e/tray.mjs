// The tray as a desktop panel sees it: Retract's tray icon is a StatusNotifierItem on the session
// bus, and its menu a com.canonical.dbusmenu object beside it. A panel reads the menu's layout
// and, when the operator clicks an item, sends that item a "clicked" event. These helpers do the
// same with `gdbus` (no panel runs under Xvfb).
import { execFileSync } from "node:child_process";

/** `gdbus call` on the session bus; `args` go after `--` (a GVariant such as -1 is no option). */
function gdbus(dest, path, method, ...args) {
  return execFileSync("gdbus", ["call", "--session", "--timeout", "3", "--dest", dest, "--object-path", path, "--method", method, "--", ...args], { encoding: "utf8", timeout: 10000, stdio: ["ignore", "pipe", "ignore"] });
}

/** The bus names that export a menu under /org/ayatana/NotificationItem, with its path. */
function menus() {
  const names = [...gdbus("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus.ListNames").matchAll(/'(:[0-9.]+)'/g)].map((m) => m[1]);
  const found = [];
  for (const name of names) {
    let items;
    try {
      items = gdbus(name, "/org/ayatana/NotificationItem", "org.freedesktop.DBus.Introspectable.Introspect");
    } catch {
      continue;
    }
    for (const [, node] of items.matchAll(/<node name=\\?"([^"\\]+)\\?"/g)) {
      found.push({ name, path: `/org/ayatana/NotificationItem/${node}/Menu` });
    }
  }
  return found;
}

/** The tray menu's items: [{ id, label }], read from the menu's layout as a panel reads it. */
export function trayItems() {
  const all = [];
  for (const menu of menus()) {
    let layout;
    try {
      layout = gdbus(menu.name, menu.path, "com.canonical.dbusmenu.GetLayout", "0", "-1", "[]");
    } catch {
      continue;
    }
    for (const [, id, props] of layout.matchAll(/\((\d+), \{([^}]*)\}/g)) {
      const label = /'label': <'([^']*)'>/.exec(props)?.[1];
      if (label !== undefined) all.push({ ...menu, id: Number(id), label: label.replace(/_/g, "") });
    }
  }
  return all;
}

/** Clicks the tray menu's item whose label matches `pattern`, as a panel does. */
export function clickTray(pattern) {
  const items = trayItems();
  const item = items.find((i) => pattern.test(i.label));
  if (!item) throw new Error(`no tray menu item like ${pattern}; the tray shows ${JSON.stringify(items.map((i) => i.label))}`);
  gdbus(item.name, item.path, "com.canonical.dbusmenu.Event", String(item.id), "clicked", "<int32 0>", "0");
  return item.label;
}
