# REQUIRES: redis-server
# RUN: rm -rf %t && mkdir -p %t
# RUN: %python %s %t %models %pylib
# The rendezvous through Gloo's RedisStore (--rendezvous=redis://HOST:PORT, a redis-server
# started here) and through Gloo's FileStore in a shared folder (--rendezvous=file:///DIR):
# two nodes x two ranks give the single-node tp=2 x pp=2 logits (1e-5).
import os
import socket
import subprocess
import sys
import time

work, models, pylib = sys.argv[1:4]
sys.path.insert(0, pylib)
from gpt2_layouts import tp2pp2_gpt2  # noqa: E402
from ports import free_port  # noqa: E402
python = sys.executable


artifact, inputs, single = tp2pp2_gpt2(work, models)


def two_nodes(rendezvous, out):
    nodes = [subprocess.Popen(["parc-run", artifact, "--nnodes=2", "--node-rank=%d" % node,
                               "--rendezvous=" + rendezvous, "--node-addr=127.0.0.%d" % (2 + node),
                               "--output-dir", out] + inputs, stderr=subprocess.PIPE, text=True)
             for node in range(2)]
    for node in nodes:
        _, err = node.communicate(timeout=120)
        assert node.returncode == 0, err
    subprocess.run([python, os.path.join(pylib, "compare_outputs.py"), out, single,
                    "--names", "logits", "--max-rel-l2", "1e-5"], check=True)


port = free_port()
server = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                           "--appendonly", "no", "--dir", work], stdout=subprocess.DEVNULL)
try:
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)
    two_nodes("redis://127.0.0.1:%d" % port, os.path.join(work, "redis"))
    print("redis rendezvous: the single-node logits")
finally:
    server.kill()
    server.wait()
two_nodes("file://" + os.path.join(work, "shared-folder"), os.path.join(work, "file"))
print("shared-folder rendezvous: the single-node logits")
