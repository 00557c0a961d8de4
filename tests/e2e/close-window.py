"""Asks the X window titled like argv[1] to close, exactly as a window manager does when the
user clicks its close button: a WM_DELETE_WINDOW client message (Xvfb runs no window manager).
Exits 1 when no such window is mapped."""
import sys

from Xlib import X, display
from Xlib.protocol import event

title = sys.argv[1]
d = display.Display()
wm_protocols = d.intern_atom("WM_PROTOCOLS")
wm_delete = d.intern_atom("WM_DELETE_WINDOW")


def find(window):
    name = window.get_wm_name()
    if name == title and wm_delete in (window.get_wm_protocols() or []):
        return window
    for child in window.query_tree().children:
        found = find(child)
        if found is not None:
            return found
    return None


target = find(d.screen().root)
if target is None:
    sys.exit(1)
target.send_event(
    event.ClientMessage(window=target, client_type=wm_protocols, data=(32, [wm_delete, X.CurrentTime, 0, 0, 0])),
    event_mask=X.NoEventMask,
)
d.sync()
