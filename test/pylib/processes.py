"""The processes of this machine whose command line holds a marker (tests that must leave
no process behind look for their artifact's path)."""

import os


def processes_with(marker, ignore=()):
    """(pid, command line) of every other process whose command line contains `marker` and
    none of the strings in `ignore`."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as file:
                command = file.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if marker in command and not any(text in command for text in ignore):
            found.append((int(pid), command.strip()))
    return found
