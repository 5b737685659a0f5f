#!/usr/bin/env python3
"""Checks the files in deploy/ against each other and against the code.

    python3 deploy/validate.py        (Python 3.11+ and PyYAML: pip install pyyaml)

- every YAML file parses;
- roster.example.toml parses and lists every key of crates/server/src/settings.rs with its
  default and its ROSTER__SECTION__KEY variable;
- the Dockerfile, compose.yaml and the Kubernetes manifests agree: ports, probe paths,
  ConfigMap/Secret names and keys, volume mounts, images, labels and selectors, the
  kustomization's resource list, and the migration arguments.

Prints each problem and exits 1 if there is any.
"""

import posixpath
import re
import sys
import tomllib
from pathlib import Path

import yaml

DEPLOY = Path(__file__).resolve().parent
ROOT = DEPLOY.parent
problems = []


def check(ok, message):
    if not ok:
        problems.append(message)
    return ok


def load_yaml(path, parsed={}):
    if path not in parsed:
        try:
            parsed[path] = [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]
        except yaml.YAMLError as error:
            problems.append(f"{path.relative_to(ROOT)}: does not parse: {error}")
            parsed[path] = []
    return parsed[path]


def check_example_settings():
    source = (ROOT / "crates/server/src/settings.rs").read_text()
    defaults = tomllib.loads(re.search(r'const DEFAULTS: &str = r#"(.*?)"#;', source, re.S)[1])
    structs = {
        name: re.findall(r"^\s+(\w+): ([\w<>]+),", body, re.M)
        for name, body in re.findall(r"struct (Raw\w+) \{(.*?)\n\}", source, re.S)
    }
    text = (DEPLOY / "roster.example.toml").read_text()
    example = tomllib.loads(text)
    for section, struct in structs["RawSettings"]:
        for key, kind in structs[struct]:
            where = f"roster.example.toml: {section}.{key}"
            check(f"ROSTER__{section.upper()}__{key.upper()}" in text, f"{where}: env var not named")
            if kind.startswith("Option<"):
                check(re.search(rf"^# {key} = ", text, re.M), f"{where}: optional key not shown")
            elif check(key in example.get(section, {}), f"{where}: missing"):
                want = defaults[section][key]
                check(example[section][key] == want, f"{where}: default is {want!r}")


def port_of(container, port):
    """A probe's or Service's port (number or name) as a container port number."""
    if isinstance(port, int):
        return port
    return next((p["containerPort"] for p in container.get("ports", []) if p.get("name") == port), None)


def check_pod(kind, spec, objects, features_file=None):
    pod = spec["template"]["spec"]
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    for container in pod["containers"]:
        env = {e["name"]: e for e in container.get("env", [])}
        for e in env.values():
            for ref, target in (("secretKeyRef", "Secret"), ("configMapKeyRef", "ConfigMap")):
                if ref in e.get("valueFrom", {}):
                    name, key = e["valueFrom"][ref]["name"], e["valueFrom"][ref]["key"]
                    obj = objects.get((target, name))
                    if check(obj, f"{kind}: {e['name']} uses missing {target} {name}"):
                        keys = {**obj.get("data", {}), **obj.get("stringData", {})}
                        check(key in keys, f"{kind}: {target} {name} has no key {key}")
        for mount in container.get("volumeMounts", []):
            volume = volumes.get(mount["name"])
            if not check(volume, f"{kind}: mount of undeclared volume {mount['name']}"):
                continue
            if "configMap" in volume:
                cm = objects.get(("ConfigMap", volume["configMap"]["name"]))
                check(cm, f"{kind}: volume uses missing ConfigMap {volume['configMap']['name']}")
                check("subPath" not in mount, f"{kind}: a subPath mount never sees ConfigMap updates")
                if cm and features_file and posixpath.dirname(features_file) == mount["mountPath"]:
                    name = posixpath.basename(features_file)
                    check(name in cm.get("data", {}), f"ConfigMap has no key {name} for {features_file}")
                    features_file = None
        if features_file:
            check(False, f"{kind}: no ConfigMap is mounted where {features_file} is read")
    return pod


def disabled_features(conf):
    text = re.sub(r"(#|//).*", "", conf)
    block = re.search(r"disabledFeatures\s*=\s*\[(.*?)\]", text, re.S)
    return set(re.findall(r"[a-z0-9-]+", block[1])) if block else set()


def main():
    for path in sorted(DEPLOY.rglob("*.y*ml")):
        load_yaml(path)
    check_example_settings()

    dockerfile = (DEPLOY / "Dockerfile").read_text()
    port = int(re.search(r"^EXPOSE (\d+)", dockerfile, re.M)[1])
    bind = re.search(r"^ENV ROSTER__SERVER__BIND=\S+:(\d+)", dockerfile, re.M)
    check(bind and int(bind[1]) == port, "Dockerfile: ROSTER__SERVER__BIND port differs from EXPOSE")
    check(re.search(r"^WORKDIR /app$", dockerfile, re.M), "Dockerfile: WORKDIR is not /app")

    if any("does not parse" in problem for problem in problems):
        return  # the cross-checks below need every file
    compose = load_yaml(DEPLOY / "compose.yaml")[0]
    services = compose.get("services", {})
    roster, db = services.get("roster", {}), services.get("db", {})
    build = roster.get("build", {})
    check((DEPLOY / build.get("context", ".") / build.get("dockerfile", "")).is_file(),
          "compose: build.dockerfile not found from build.context")
    check(roster.get("depends_on", {}).get("db", {}).get("condition") == "service_healthy",
          "compose: roster does not wait for a healthy db")
    check("healthcheck" in db, "compose: db has no healthcheck")
    check(all(str(p).rsplit(":", 1)[-1] == str(port) for p in roster.get("ports", [])),
          f"compose: a published port does not target {port}")
    check("@db:" in roster.get("environment", {}).get("ROSTER__DATABASE__URL", ""),
          "compose: ROSTER__DATABASE__URL does not point at the db service")
    check(any(str(v).endswith(":/app/features") for v in roster.get("volumes", [])),
          "compose: features folder not mounted at /app/features")

    k8s = DEPLOY / "k8s"
    kustomization = load_yaml(k8s / "kustomization.yaml")[0]
    files = {p.name for p in k8s.glob("*.yaml")} - {"kustomization.yaml"}
    check(set(kustomization["resources"]) == files,
          f"kustomization resources {sorted(kustomization['resources'])} != files {sorted(files)}")
    objects = {}
    for name in sorted(files):
        for doc in load_yaml(k8s / name):
            objects[(doc["kind"], doc["metadata"]["name"])] = doc
    deployments = [o for (kind, _), o in objects.items() if kind == "Deployment"]
    jobs = [o for (kind, _), o in objects.items() if kind == "Job"]
    services = [o for (kind, _), o in objects.items() if kind == "Service"]
    if not check(len(deployments) == 1 and jobs and services, "k8s: need one Deployment, a Job, a Service"):
        return

    deployment = deployments[0]["spec"]
    labels = deployment["template"]["metadata"]["labels"]
    check(deployment["selector"]["matchLabels"].items() <= labels.items(),
          "Deployment: selector does not match its pod labels")
    container = deployment["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value") for e in container.get("env", [])}
    pod = check_pod("Deployment", deployment, objects, env.get("ROSTER__FEATURES__FILE"))
    check((env.get("ROSTER__SERVER__BIND") or f":{port}").endswith(f":{port}"),
          f"Deployment: ROSTER__SERVER__BIND does not use port {port}")
    check(any(p["containerPort"] == port for p in container.get("ports", [])),
          f"Deployment: no containerPort {port}")
    check("--no-migrate" in container.get("args", []), "Deployment: nodes should start with --no-migrate")
    for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
        get = container.get(probe, {}).get("httpGet", {})
        check(get.get("path") == path and port_of(container, get.get("port")) == port,
              f"Deployment: {probe} should GET {path} on port {port}")

    for job in jobs:
        spec = job["spec"]
        check_pod("Job", spec, objects)
        job_container = spec["template"]["spec"]["containers"][0]
        check(job_container.get("args") == ["migrate"], "Job: args should be [migrate]")
        check(spec["template"]["metadata"]["labels"].items() != labels.items(), "Job: pod labels equal the server's")
    for service in services:
        selector = service["spec"]["selector"]
        check(selector.items() <= labels.items(), f"Service {service['metadata']['name']}: selects no server pod")
        for job in jobs:
            check(not selector.items() <= job["spec"]["template"]["metadata"]["labels"].items(),
                  f"Service {service['metadata']['name']}: also selects the migration Job's pod")
        for p in service["spec"]["ports"]:
            check(port_of(container, p["targetPort"]) == port, f"Service: targetPort {p['targetPort']} is not {port}")

    images = {c["image"] for o in deployments + jobs for c in o["spec"]["template"]["spec"]["containers"]}
    check(len(images) == 1, f"k8s: containers use different images {sorted(images)}")
    names = {i["name"] for i in kustomization.get("images", [])}
    check({i.rsplit(":", 1)[0] for i in images} <= names, "kustomization: images[].name does not match the manifests")

    for (kind, name), obj in objects.items():
        if kind == "ConfigMap":
            for key, conf in obj.get("data", {}).items():
                check("healthchecks" not in disabled_features(conf),
                      f"ConfigMap {name}/{key}: healthchecks disabled, the probes would get 404")
    check(pod.get("securityContext", {}).get("runAsNonRoot"), "Deployment: runAsNonRoot not set")


if __name__ == "__main__":
    main()
    for problem in problems:
        print(f"problem: {problem}")
    print(f"deploy/validate.py: {len(problems)} problem(s)")
    sys.exit(1 if problems else 0)
