"""Finding parc's command-line tools and running them."""

import os
import shutil
import subprocess

BUILD_DIR_VARIABLE = "PARC_BUILD_DIR"


class ParcError(RuntimeError):
    """An error from parc-compile or parc-run; the message is parc's own."""


def find_tool(name):
    """The path of parc tool `name` ("parc-compile" or "parc-run").

    Looks in $PARC_BUILD_DIR/bin, then $PARC_BUILD_DIR, then PATH; raises ParcError saying
    how to get the tools when none has it.
    """
    build = os.environ.get(BUILD_DIR_VARIABLE)
    if build:
        for folder in (os.path.join(build, "bin"), build):
            candidate = os.path.join(folder, name)
            if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                return candidate
    found = shutil.which(name)
    if found:
        return found
    where = ("not in %s=%s (nor its bin/) and not on PATH" % (BUILD_DIR_VARIABLE, build)
             if build else "not on PATH and %s is not set" % BUILD_DIR_VARIABLE)
    raise ParcError(
        "%s not found: %s. Build parc (bash scripts/build.sh in a parc checkout) and set "
        "%s to its build folder, e.g. export %s=/path/to/parc/build" %
        (name, where, BUILD_DIR_VARIABLE, BUILD_DIR_VARIABLE))


def run_tool(name, arguments, timeout=None):
    """Runs a parc tool; returns its standard output, raises ParcError with its message."""
    command = [find_tool(name)] + [str(a) for a in arguments]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise ParcError("%s did not finish within %s s" % (name, timeout)) from None
    if result.returncode != 0:
        # The tools' error lines, without the progress lines before them.
        errors = [line for line in result.stderr.splitlines() if ": error: " in line]
        message = "\n".join(errors) or result.stderr.strip() or result.stdout.strip()
        raise ParcError(message or "%s failed with exit code %d" % (name, result.returncode))
    return result.stdout
