#!/usr/bin/env python3
"""Helpers of launch/gpu_check.sh, standard library only (transformers and torch
only for hf-ppl, and only where they are installed):

  unpack-deb DEB DEST          a .deb's files under DEST (where dpkg-deb is missing)
  compare-metrics A B [--rtol R] [--atol A]
                               last records of two metrics.jsonl files, leaf by leaf
                               (timings, seconds and memory left out); exit 1 past tolerance
  hf-ppl MODEL TEXT [--docs N] [--max-length L] [--device D]
                               perplexity with transformers, defined as `revive ppl
                               --max-documents N --max-length L --truncate` defines it;
                               exit 77 without transformers
  rsvd-line JSON DEVICE        bench_rsvd's figures in one line
  forward-line JSON            bench_forward's figures in one line
  export-verdict WORK REFERENCE HF_RC OUT_JSON
                               the export step's figures (revive ppl and hf-ppl results in
                               WORK) checked: edits visible, REVIVE = transformers within 1e-4
  summary OUT                  OUT/steps.jsonl and OUT/<step>.json into OUT/gpu_check.json
"""
import argparse
import io
import json
import lzma
import math
import os
import sys
import tarfile

SKIP = 77
# Leaves that measure the machine, not the edit.
MACHINE_KEYS = {"timings", "seconds", "memory", "cache"}


def unpack_deb(deb, dest):
    """A .deb is an ar archive holding data.tar.{xz,gz,zst}; Debian 12 uses xz."""
    with open(deb, "rb") as f:
        if f.read(8) != b"!<arch>\n":
            sys.exit(f"{deb}: not an ar archive")
        while True:
            header = f.read(60)
            if len(header) < 60:
                break
            name = header[:16].decode().strip().rstrip("/")
            size = int(header[48:58].decode().strip())
            body = f.read(size)
            if size % 2:
                f.read(1)
            if name.startswith("data.tar"):
                if name.endswith(".xz"):
                    body = lzma.decompress(body)
                elif not name.endswith((".gz", ".tar")):
                    sys.exit(f"{deb}: {name} is compressed in a format Python cannot read")
                with tarfile.open(fileobj=io.BytesIO(body)) as tar:
                    tar.extractall(dest, filter="tar") if hasattr(tarfile, "data_filter") else tar.extractall(dest)
                return
    sys.exit(f"{deb}: no data.tar member")


def last_record(path):
    with open(path) as f:
        lines = [l for l in f if l.strip()]
    if not lines:
        sys.exit(f"{path}: no metrics records")
    return json.loads(lines[-1])


def numeric_leaves(node, prefix=""):
    if isinstance(node, dict):
        for k, v in node.items():
            if k in MACHINE_KEYS:
                continue
            yield from numeric_leaves(v, f"{prefix}{k}.")
    elif isinstance(node, (int, float)) and not isinstance(node, bool):
        yield prefix[:-1], float(node)


def compare_metrics(a, b, rtol, atol):
    la, lb = dict(numeric_leaves(last_record(a))), dict(numeric_leaves(last_record(b)))
    missing = sorted(set(la) ^ set(lb))
    worst, failures = 0.0, []
    for key in sorted(set(la) & set(lb)):
        x, y = la[key], lb[key]
        diff = abs(x - y)
        rel = diff / max(abs(x), abs(y), 1e-300)
        worst = max(worst, rel if diff > atol else 0.0)
        if not (math.isfinite(x) and math.isfinite(y)) or diff > atol + rtol * max(abs(x), abs(y)):
            failures.append({"key": key, "a": x, "b": y})
    report = {"compared": len(set(la) & set(lb)), "worst_relative": worst, "rtol": rtol, "atol": atol,
              "only_in_one": missing, "beyond_tolerance": failures}
    for key in ("edits", "batch_efficacy", "eval.perplexity"):
        if key in la and key in lb:
            report[key] = [la[key], lb[key]]
    print(json.dumps(report))
    return 0 if not failures and not missing else 1


def hf_ppl(model, text, docs, max_length, device):
    try:
        import torch
        from tokenizers import Tokenizer
        from transformers import AutoModelForCausalLM
    except ImportError as e:
        print(json.dumps({"skipped": f"no transformers here ({e})"}))
        return SKIP
    torch.backends.cuda.matmul.allow_tf32 = False  # f32 as REVIVE computes it
    with open(text, encoding="utf-8") as f:
        stories = [s.strip() for s in f.read().split("<|endoftext|>")]
    stories = [s for s in stories if s][:docs]
    # The tokenizers library reads tokenizer.json as REVIVE does; its post-processor adds BOS.
    tok = Tokenizer.from_file(os.path.join(model, "tokenizer.json"))
    try:
        lm = AutoModelForCausalLM.from_pretrained(model, dtype=torch.float32)
    except TypeError:  # transformers before 4.56
        lm = AutoModelForCausalLM.from_pretrained(model, torch_dtype=torch.float32)
    lm = lm.to(device).eval()
    nll, count = 0.0, 0
    with torch.no_grad():
        for s in stories:
            ids = tok.encode(s).ids[:max_length]
            x = torch.tensor([ids], device=device)
            lp = torch.log_softmax(lm(x).logits[0, :-1].double(), dim=-1)
            nll -= lp.gather(1, x[0, 1:, None]).sum().item()
            count += len(ids) - 1
    print(json.dumps({"ppl": math.exp(nll / count), "nll": nll / count, "tokens": count,
                      "documents": len(stories), "transformers_device": device}))
    return 0


def rsvd_line(path, device):
    r = json.load(open(path))["runs"][0]
    top_k = r.get("gram_eigen_top_k", {}).get("time_s")
    print("%dx%d k %d on %s: randomized %.3f s (energy %.4f of optimal), Gram-eigen %.3f s%s" % (
        r["rows"], r["cols"], r["k"], device, r["randomized"]["time_s"], r["randomized"]["energy_captured"],
        r["gram_eigen"]["time_s"], ", top-k %.3f s" % top_k if top_k else ""))
    return 0


def forward_line(path):
    d = json.load(open(path))
    parts = ["%s %.0f tokens/s" % (name, v["tokens_per_s"]) for name, v in d.items()
             if isinstance(v, dict) and "tokens_per_s" in v]
    print("forward on %s (batch x tokens as run): %s" % (d.get("device", "cpu"), ", ".join(parts)))
    return 0


def ppl_of(result):
    """`revive ppl --json` nests its figures under metrics; hf-ppl does not."""
    return result["metrics"]["ppl"] if "metrics" in result else result["ppl"]


def export_verdict(work, reference, hf_rc, out_json):
    load = lambda name: json.load(open(os.path.join(work, name + ".json")))
    doc = {"revive_exported": load("revive_ppl_exported"), "revive_original": load("revive_ppl_original")}
    doc["edits_visible"] = ppl_of(doc["revive_exported"]) != ppl_of(doc["revive_original"])
    ok = doc["edits_visible"]
    line = "perplexity of the export: revive %.6f (original %.6f)" % (
        ppl_of(doc["revive_exported"]), ppl_of(doc["revive_original"]))
    if hf_rc == 0:
        doc["hf_exported"], doc["hf_original"] = load("hf_ppl_exported"), load("hf_ppl_original")
        ref = json.load(open(reference))["nll_tinystories_first50_stories_256tok"]
        rel = lambda a, b: abs(a - b) / abs(b)
        doc["exported_revive_vs_hf"] = rel(ppl_of(doc["revive_exported"]), ppl_of(doc["hf_exported"]))
        doc["original_hf_vs_reference_nll"] = rel(doc["hf_original"]["nll"], ref)
        ok = ok and doc["exported_revive_vs_hf"] <= 1e-4 and doc["original_hf_vs_reference_nll"] <= 1e-4
        line += ", transformers %.6f: relative difference %.2e" % (ppl_of(doc["hf_exported"]), doc["exported_revive_vs_hf"])
    else:
        doc["hf"] = "skipped: no transformers on this machine"
        line += "; transformers skipped here"
    doc["passed"] = ok
    with open(out_json, "w") as f:
        json.dump(doc, f)
    print(line)
    return 0 if ok else 1


def summary(out):
    steps = []
    with open(os.path.join(out, "steps.jsonl")) as f:
        for line in f:
            if line.strip():
                step = json.loads(line)
                figures = os.path.join(out, step["step"] + ".json")
                if os.path.exists(figures):
                    try:
                        with open(figures) as g:
                            step["figures"] = json.load(g)
                    except ValueError:
                        step["figures"] = {"unreadable": figures}
                steps.append(step)
    counts = {}
    for s in steps:
        counts[s["status"]] = counts.get(s["status"], 0) + 1
    doc = {"passed": not any(s["status"] in ("fail", "timeout") for s in steps), "counts": counts, "steps": steps}
    meta = os.path.join(out, "machine.json")
    if os.path.exists(meta):
        with open(meta) as f:
            doc["machine"] = json.load(f)
    with open(os.path.join(out, "gpu_check.json.tmp"), "w") as f:
        json.dump(doc, f, indent=1)
    os.replace(os.path.join(out, "gpu_check.json.tmp"), os.path.join(out, "gpu_check.json"))
    print(json.dumps({"passed": doc["passed"], "counts": counts}))
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    u = sub.add_parser("unpack-deb")
    u.add_argument("deb")
    u.add_argument("dest")
    c = sub.add_parser("compare-metrics")
    c.add_argument("a")
    c.add_argument("b")
    c.add_argument("--rtol", type=float, default=1e-3)
    c.add_argument("--atol", type=float, default=1e-6)
    h = sub.add_parser("hf-ppl")
    h.add_argument("model")
    h.add_argument("text")
    h.add_argument("--docs", type=int, default=50)
    h.add_argument("--max-length", type=int, default=256)
    h.add_argument("--device", default="cpu")
    r = sub.add_parser("rsvd-line")
    r.add_argument("json")
    r.add_argument("device")
    fl = sub.add_parser("forward-line")
    fl.add_argument("json")
    e = sub.add_parser("export-verdict")
    e.add_argument("work")
    e.add_argument("reference")
    e.add_argument("hf_rc", type=int)
    e.add_argument("out_json")
    s = sub.add_parser("summary")
    s.add_argument("out")
    a = p.parse_args()
    if a.cmd == "unpack-deb":
        unpack_deb(a.deb, a.dest)
        return 0
    if a.cmd == "compare-metrics":
        return compare_metrics(a.a, a.b, a.rtol, a.atol)
    if a.cmd == "hf-ppl":
        return hf_ppl(a.model, a.text, a.docs, a.max_length, a.device)
    if a.cmd == "rsvd-line":
        return rsvd_line(a.json, a.device)
    if a.cmd == "forward-line":
        return forward_line(a.json)
    if a.cmd == "export-verdict":
        return export_verdict(a.work, a.reference, a.hf_rc, a.out_json)
    return summary(a.out)


if __name__ == "__main__":
    sys.exit(main())
