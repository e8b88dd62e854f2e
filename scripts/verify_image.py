"""Build the Docker image on a debootstrapped Debian base and run it for real against local stores.

What it does, each step timed, stopping at the first failure:
1. Starts `dockerd` if no engine answers (no bridge, no iptables: containers run with `--network host` only).
2. Makes the base image unless it exists: `debootstrap --variant=minbase` of Debian (python3, python3-venv,
   ca-certificates) and `docker import` (no image registry is reachable here). The host's extra trust roots
   (/usr/local/share/ca-certificates, e.g. a TLS-inspecting egress proxy's) are copied in, so pip in the
   build trusts what the host trusts.
3. Builds the Dockerfile with `--build-arg BASE=<that image>` and `--network host`; prints the image's size.
4. Creates a fresh PostgreSQL database on 127.0.0.1:5432 and starts `chroma run` on a free loopback port.
5. Runs the image (`--network host`, DATABASE_URL and CHROMA_HOST/PORT set, one `/data` volume for all, as
   compose gives them): `id -u` (not root), `ingest` of a small JSON Lines file, `status --json`, `cite --json`
   and `ask --json` finding the ingested work (each with its CPU seconds), then `serve` until `/healthz` answers
   200 and Docker's own HEALTHCHECK reports healthy, then `docker stop`.
6. Removes its containers, the volume, the database and the Chroma directory (the images stay for the next run).

Usage (as root, with docker.io and debootstrap installed; 10-20 minutes on 2 cores for a first build):
    python scripts/verify_image.py [--base alignbot-base:bookworm] [--tag alignbot:verify] [--rebuild-base]
                                   [--skip-build]
It prints a Markdown table of what it verified (README: "The image, verified").
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
POSTGRES = "postgresql://postgres@127.0.0.1:5432"
BASE_PACKAGES = "python3,python3-venv,ca-certificates"
# Three works written for this check (no evaluation data): the ingested file the container reads.
SAMPLE_WORKS = [
    {
        "id": "verify:lighthouse-keeping",
        "title": "Lighthouse Keeping as a Model for Overseeing Autonomous Agents",
        "authors": ["Verity Quillfeather", "Osric Dunmore"],
        "year": 2031,
        "abstract": "We compare the duties of nineteenth-century lighthouse keepers with the oversight of "
        "autonomous software agents and propose a rota of human checks for long-running agent tasks.",
        "url": "https://example.org/verify/lighthouse",
    },
    {
        "id": "verify:tidal-rewards",
        "title": "Tidal Reward Schedules Reduce Specification Gaming in Simulated Harbours",
        "authors": ["Osric Dunmore"],
        "year": 2031,
        "abstract": "Agents rewarded on a tidal schedule game their reward less often than agents rewarded "
        "continuously in a simulated harbour with moving moorings.",
    },
    {
        "id": "verify:kelp-interpretability",
        "title": "Reading Kelp Forests: Sparse Features in a Marine Ecology Transformer",
        "authors": ["Marisol Penhallow"],
        "year": 2030,
        "abstract": "Sparse autoencoder features of a transformer trained on kelp forest surveys align with "
        "species that divers name.",
    },
]
ASK = "how should humans oversee long-running autonomous agents, like lighthouse keepers?"
CITE = "Quillfeather & Dunmore 2031"


class Failed(RuntimeError):
    pass


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run(argv: Sequence[str], timeout: float = 1800, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, **kwargs)
    if check and result.returncode != 0:
        raise Failed(
            f"{' '.join(argv)[:300]}: exit {result.returncode}\n{result.stdout[-2000:]}{result.stderr[-3000:]}"
        )
    return result


def timed(argv: Sequence[str], **kwargs) -> tuple[subprocess.CompletedProcess, float]:
    started = time.perf_counter()
    result = run(argv, **kwargs)
    return result, time.perf_counter() - started


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, seconds: float, process: subprocess.Popen | None = None) -> float:
    """Seconds until `url` answers 200 (polled every 0.1 s)."""
    started = time.perf_counter()
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback never goes to a proxy
    while time.perf_counter() - started < seconds:
        if process is not None and process.poll() is not None:
            raise Failed(f"{url}: the server exited with {process.returncode}")
        try:
            with opener.open(url, timeout=2) as response:
                if response.status == 200:
                    return time.perf_counter() - started
        except (OSError, urllib.error.HTTPError):
            pass
        time.sleep(0.1)
    raise Failed(f"{url} did not answer 200 within {seconds:.0f} s")


def ensure_dockerd(workdir: Path) -> subprocess.Popen | None:
    """The running engine, or one started here (returned, to stop at the end)."""
    if run(["docker", "info"], check=False, timeout=30).returncode == 0:
        return None
    log("starting dockerd (no bridge, no iptables)")
    daemon = subprocess.Popen(
        ["dockerd", "--bridge=none", "--iptables=false", "--ip6tables=false"],
        stdout=(workdir / "dockerd.log").open("w"),
        stderr=subprocess.STDOUT,
    )
    for _ in range(60):
        if run(["docker", "info"], check=False, timeout=30).returncode == 0:
            return daemon
        time.sleep(1)
    raise Failed(f"dockerd did not start: see {workdir / 'dockerd.log'}")


def image_exists(tag: str) -> bool:
    return run(["docker", "image", "inspect", tag], check=False).returncode == 0


def image_size(tag: str) -> int:
    return int(run(["docker", "image", "inspect", "--format", "{{.Size}}", tag]).stdout)


def make_base(tag: str, suite: str, mirror: str, workdir: Path) -> float:
    root = workdir / "rootfs"
    started = time.perf_counter()
    log(f"debootstrap {suite} into {root}")
    run(["debootstrap", "--variant=minbase", f"--include={BASE_PACKAGES}", suite, str(root), mirror], timeout=3600)
    extra_roots = sorted(Path("/usr/local/share/ca-certificates").glob("*.crt"))
    for certificate in extra_roots:
        shutil.copy(certificate, root / "usr/local/share/ca-certificates" / certificate.name)
    if extra_roots:
        run(["chroot", str(root), "update-ca-certificates"])
        # pip inside the image reads this; its own bundle would not know the host's extra roots.
        (root / "etc/pip.conf").write_text("[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n")
    for cache in ("var/cache/apt/archives", "var/lib/apt/lists"):
        for path in (root / cache).glob("*"):
            if path.is_file():
                path.unlink()
    tar = subprocess.Popen(["tar", "-C", str(root), "-c", "."], stdout=subprocess.PIPE)
    run(["docker", "import", "-", tag], stdin=tar.stdout)
    tar.wait()
    shutil.rmtree(root)
    return time.perf_counter() - started


# Runs the entrypoint's command and prints its CPU seconds last on stderr: on a busy machine the wall time is
# mostly waiting for a core.
CPU_PROBE = (
    "import resource, subprocess, sys; code = subprocess.call(['alignbot', *sys.argv[1:]]); "
    "usage = resource.getrusage(resource.RUSAGE_CHILDREN); "
    "print(f'cpu {usage.ru_utime + usage.ru_stime:.2f}', file=sys.stderr); sys.exit(code)"
)


def docker_run(
    tag: str, env: dict[str, str], args: Sequence[str], mounts: Sequence[str] = ()
) -> tuple[subprocess.CompletedProcess, str]:
    """The command's result and its time in the container, "W s (C s CPU)"."""
    argv = ["docker", "run", "--rm", "--network", "host", "--entrypoint", "python"]
    for name, value in env.items():
        argv += ["-e", f"{name}={value}"]
    for mount in mounts:
        argv += ["-v", mount]
    result, seconds = timed([*argv, tag, "-c", CPU_PROBE, *args])
    cpu = result.stderr.strip().splitlines()[-1].removeprefix("cpu ")
    return result, f"{seconds:.1f} s ({cpu} s CPU)"


def verify(args: argparse.Namespace, workdir: Path, rows: list[tuple[str, str]]) -> None:
    if args.rebuild_base or not image_exists(args.base):
        seconds = make_base(args.base, args.suite, args.mirror, workdir)
        rows.append((f"base image `{args.base}` (debootstrap + import)", f"{seconds:.0f} s"))
    python = run(["docker", "run", "--rm", "--network", "host", args.base, "python3", "--version"]).stdout.strip()
    rows.append(("base image", f"{python}, {image_size(args.base) / 1e6:.0f} MB"))

    if not args.skip_build:
        log(f"docker build --build-arg BASE={args.base} -t {args.tag}")
        build = ["docker", "build", "--network", "host", "--build-arg", f"BASE={args.base}", "-t", args.tag, str(REPO)]
        result, seconds = timed(build, timeout=5400)
        (workdir / "build.log").write_text(result.stdout + result.stderr)
        rows.append(("`docker build` (layers cached from earlier runs are reused)", f"{seconds:.0f} s"))
    rows.append(("image size", f"{image_size(args.tag) / 1e6:.0f} MB"))

    uid = run(["docker", "run", "--rm", "--network", "host", "--entrypoint", "id", args.tag, "-u"]).stdout.strip()
    if uid in ("", "0"):
        raise Failed(f"the image runs as uid {uid!r}")
    rows.append(("runs as", f"uid {uid}"))

    database = f"alignbot_verify_{int(time.time())}"
    run(["psql", POSTGRES + "/postgres", "-c", f'CREATE DATABASE "{database}"'])
    chroma_port = free_port()
    chroma = subprocess.Popen(
        ["chroma", "run", "--host", "127.0.0.1", "--port", str(chroma_port), "--path", str(workdir / "chroma")],
        stdout=(workdir / "chroma.log").open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(f"http://127.0.0.1:{chroma_port}/api/v2/heartbeat", 120, chroma)
        env = {
            "DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:5432/{database}",
            "CHROMA_HOST": "127.0.0.1",
            "CHROMA_PORT": str(chroma_port),
        }
        rows.append(("stores", f"PostgreSQL database `{database}` (new), `chroma run` on 127.0.0.1:{chroma_port}"))
        run_image(args.tag, env, workdir, rows)
    finally:
        chroma.terminate()
        chroma.wait(30)
        run(["psql", POSTGRES + "/postgres", "-c", f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'], check=False)


def run_image(tag: str, env: dict[str, str], workdir: Path, rows: list[tuple[str, str]]) -> None:
    inbox = workdir / "input"
    inbox.mkdir()
    (inbox / "works.jsonl").write_text("".join(json.dumps(work) + "\n" for work in SAMPLE_WORKS))
    inbox.chmod(0o755)
    # One data volume for every container, as docker-compose.yml gives them: the saved lexical index lives there.
    volume = f"alignbot-verify-{workdir.name}"
    run(["docker", "volume", "create", volume])
    try:
        run_commands(tag, env, [f"{inbox}:/input:ro", f"{volume}:/data"], workdir, rows)
    finally:
        run(["docker", "volume", "rm", "-f", volume], check=False)


def run_commands(tag: str, env: dict[str, str], mounts: list[str], workdir: Path, rows: list[tuple[str, str]]) -> None:
    _, seconds = timed(["docker", "run", "--rm", "--network", "host", "--entrypoint", "python", tag, "-c", "pass"])
    rows.append(("`docker run … python -c pass` (a container's own start)", f"{seconds:.1f} s"))

    # The first command on new stores also migrates them and ingests and embeds the bundled reading list.
    result, seconds = docker_run(tag, env, ["ingest", "/input/works.jsonl"], mounts)
    rows.append(("`ingest works.jsonl` (3 works; first start: migrate, reading list)", seconds))

    result, seconds = docker_run(tag, env, ["status", "--json"], mounts)
    status = json.loads(result.stdout)
    counts = f"{status['works']} works, {status['vectors']} vectors, schema {status['schema']}"
    rows.append(("`status --json`", f"{seconds}: {counts}"))

    result, seconds = docker_run(tag, env, ["cite", CITE, "--json"], mounts)
    cited = json.loads(result.stdout)
    if not cited["confident"] or cited["match"]["id"] != SAMPLE_WORKS[0]["id"]:
        raise Failed(f"cite {CITE!r} did not find the ingested work: {result.stdout[:1000]}")
    rows.append((f"`cite {CITE!r} --json`", f"{seconds}: confident, {cited['match']['id']}"))

    result, seconds = docker_run(tag, env, ["ask", ASK, "--json"], mounts)
    asked = json.loads(result.stdout)
    ids = [work["id"] for work in asked["results"]]
    if SAMPLE_WORKS[0]["id"] not in ids[:3]:
        raise Failed(f"ask did not rank the ingested work in its top 3: {ids}")
    rank = ids.index(SAMPLE_WORKS[0]["id"]) + 1
    rows.append(("`ask … --json` (embeds the query in the container)", f"{seconds}: the ingested work at rank {rank}"))

    port = free_port()
    name = f"alignbot-verify-serve-{port}"
    serve_env = env | {"ALIGNBOT_HTTP_HOST": "127.0.0.1", "ALIGNBOT_HTTP_PORT": str(port)}
    argv = ["docker", "run", "-d", "--name", name, "--network", "host", "-v", mounts[-1]]
    for key, value in serve_env.items():
        argv += ["-e", f"{key}={value}"]
    started = time.perf_counter()
    run([*argv, tag, "serve"])
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", 300)
        ready = time.perf_counter() - started
        rows.append(("`serve`: `/healthz` 200 (from `docker run -d`)", f"{ready:.1f} s"))
        health_started = time.perf_counter()
        while True:
            health = run(["docker", "inspect", "--format", "{{.State.Health.Status}}", name]).stdout.strip()
            if health == "healthy":
                break
            if time.perf_counter() - health_started > 120:
                raise Failed(f"Docker's HEALTHCHECK says {health!r}")
            time.sleep(1)
        rows.append(("Docker HEALTHCHECK (`python -m bot.healthcheck http`)", "healthy"))
        _, stop_seconds = timed(["docker", "stop", "--time", "30", name])
        code = run(["docker", "inspect", "--format", "{{.State.ExitCode}}", name]).stdout.strip()
        rows.append(("`docker stop` (SIGTERM)", f"{stop_seconds:.1f} s, exit code {code}"))
    finally:
        logs = run(["docker", "logs", name], check=False)
        (workdir / "serve.log").write_text(logs.stdout + logs.stderr)
        run(["docker", "rm", "-f", name], check=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default="alignbot-base:bookworm", help="base image tag (made if missing)")
    parser.add_argument("--tag", default="alignbot:verify", help="tag of the image built from this checkout")
    parser.add_argument("--suite", default="bookworm")
    parser.add_argument("--mirror", default="http://deb.debian.org/debian")
    parser.add_argument("--rebuild-base", action="store_true")
    parser.add_argument("--skip-build", action="store_true", help="run the checks on the image already tagged")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="alignbot-verify-image-"))
    rows: list[tuple[str, str]] = []
    daemon = ensure_dockerd(workdir)
    try:
        verify(args, workdir, rows)
    except Failed as exc:
        log(f"FAILED: {exc}\n(logs in {workdir})")
        sys.exit(1)
    finally:
        print("| step | result |\n|---|---|")
        for step, value in rows:
            print(f"| {step} | {value} |")
        if daemon is not None:
            daemon.terminate()
            daemon.wait(60)
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
