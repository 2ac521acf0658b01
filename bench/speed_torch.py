"""PyTorch twin of piq-tfjs's training step, for `npm run bench:speed`.

Same architecture, shapes, losses and optimizer as Trainer.trainStep on bench/speed.ts's PiqModel.

--workload mnist (default): the MNIST demo's model. Frozen classifier conv16-pool-conv32-pool-
conv64('features', 7x7x64)-dense10; decoder convT(64->32, k4, s2, 'same', no bias) BN ReLU
convT(32->16) BN ReLU conv3x3(16->1); batch 64.
--workload colour64 / colour128: an S x S x 3 classifier conv32 s2 - conv64 s2 - conv128 s2
('features', S/8 x S/8 x 128) - global average pool - dense10, and piq-tfjs's default decoder for
that tap: convT(128->32) BN ReLU convT(32->16) BN ReLU convT(16->16) BN ReLU conv3x3(16->3); batch 16.

Both: a (10*16) x D codebook (16 codes per class, no shared codes) searched only among the
predicted class's own codes; loss = BCE-with-logits(reconstruction) + codebook + commitment
(beta 1); Adam(lr 1e-3) over the decoder and the codebook. Prints one JSON line.

Usage: python3 bench/speed_torch.py --threads 1 [--workload mnist] [--reps 20] [--warmup 5]
Thread variables must be set before torch is imported: this script sets them from --threads.
"""
import argparse
import json
import os
import resource
import sys
import time

ap = argparse.ArgumentParser()
ap.add_argument("--threads", type=int, default=1)
ap.add_argument("--reps", type=int, default=20)
ap.add_argument("--warmup", type=int, default=5)
ap.add_argument("--workload", choices=["mnist", "colour64", "colour128"], default="mnist")
ap.add_argument("--batch", type=int, default=None, help="default: 64 (mnist), 16 (colour)")
ap.add_argument("--budget", type=float, default=60.0, help="seconds per measurement; stops early after 3 reps")
args = ap.parse_args()
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(args.threads)

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

torch.set_num_threads(args.threads)
torch.manual_seed(0)
COLOUR = args.workload.startswith("colour")
S = {"mnist": 28, "colour64": 64, "colour128": 128}[args.workload]
CH = 3 if COLOUR else 1
G = S // 8 if COLOUR else 7  # tap grid
B = args.batch or (16 if COLOUR else 64)
K_PER, C, D = 16, 10, (128 if COLOUR else 64)


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.features = nn.Conv2d(32, 64, 3, padding=1)
        self.probs = nn.Linear(7 * 7 * 64, 10)

    def forward(self, x):
        h = F.max_pool2d(F.relu(self.conv1(x)), 2)
        h = F.max_pool2d(F.relu(self.conv2(h)), 2)
        f = F.relu(self.features(h))
        return f, self.probs(torch.flatten(f, 1))

    def logits(self, x):
        return self.forward(x)[1]


class ColourClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, 3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(32, 64, 3, stride=2, padding=1)
        self.features = nn.Conv2d(64, 128, 3, stride=2, padding=1)
        self.probs = nn.Linear(128, 10)

    def forward(self, x):
        h = F.relu(self.conv2(F.relu(self.conv1(x))))
        f = F.relu(self.features(h))
        return f, self.probs(f.mean((2, 3)))

    def logits(self, x):
        return self.forward(x)[1]


def up(cin, cout):
    return [nn.ConvTranspose2d(cin, cout, 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(cout, eps=1e-3, momentum=0.01), nn.ReLU()]


# piq-tfjs's default decoder: stride-2 stages to the input size, channels min(32, D) halving to 16.
decoder = nn.Sequential(*up(D, 32), *up(32, 16), *(up(16, 16) if COLOUR else []), nn.Conv2d(16, CH, 3, padding=1))
classifier = (ColourClassifier() if COLOUR else Classifier()).eval()
for p in classifier.parameters():
    p.requires_grad_(False)
codebook = nn.Parameter(torch.empty(C * K_PER, D).uniform_(-1 / (C * K_PER), 1 / (C * K_PER)))
table = torch.arange(C * K_PER).reshape(C, K_PER)  # class c may use rows c*16 .. c*16+15


def quantize(u, cls):
    """u [B, D, G, G] -> (quantized, idx, codebook loss, commitment loss, perplexity)."""
    b = u.shape[0]
    uf = u.permute(0, 2, 3, 1).reshape(b, -1, D)  # [B, 49, D]
    with torch.no_grad():
        rows = table[cls]  # [B, 16]
        codes = codebook[rows]  # [B, 16, D]
        dist = (uf * uf).sum(-1, keepdim=True) - 2 * torch.bmm(uf, codes.transpose(1, 2)) + (codes * codes).sum(-1).unsqueeze(1)
        idx = torch.gather(rows, 1, dist.argmin(-1))  # [B, 49] global rows
    sel = codebook[idx.reshape(-1)].reshape(b, -1, D)
    cb_loss = F.mse_loss(sel, uf.detach())
    commit = F.mse_loss(uf, sel.detach())
    q = uf + (sel - uf).detach()
    counts = torch.bincount(idx.reshape(-1), minlength=C * K_PER).float()
    p = counts / counts.sum()
    perplexity = torch.exp(-(p * torch.log(p.clamp_min(1e-30))).sum())
    return q.reshape(b, G, G, D).permute(0, 3, 1, 2), idx, cb_loss, commit, perplexity


params = list(decoder.parameters()) + [codebook]
opt = torch.optim.Adam(params, lr=1e-3)
vq_opt = torch.optim.Adam([codebook], lr=1e-3)
x = torch.rand(B, CH, S, S)


def train_step():
    decoder.train()
    with torch.no_grad():
        feats, logits = classifier(x)
        cls = logits.argmax(-1)
    q, idx, cb, cm, ppl = quantize(feats, cls)
    out = decoder(q)
    loss = F.binary_cross_entropy_with_logits(out, x) + cb + cm
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return loss.item()


with torch.no_grad():
    vq_feats, vq_logits = classifier(x)
    vq_cls = vq_logits.argmax(-1)
vq_u = vq_feats.clone().requires_grad_(True)


def vq_step():
    _, _, cb, cm, _ = quantize(vq_u, vq_cls)
    loss = cb + cm
    vq_opt.zero_grad(set_to_none=True)
    vq_u.grad = None
    loss.backward()
    vq_opt.step()
    return loss.item()


def interpret_batch():
    decoder.eval()
    with torch.no_grad():
        feats, logits = classifier(x)
        cls = logits.argmax(-1)
        q, idx, _, _, _ = quantize(feats, cls)
        interp = torch.sigmoid(decoder(q))
        probs = torch.softmax(logits, -1)
        icls = classifier.logits(interp).argmax(-1)
        # read everything back, as Interpreter.interpret does
        return cls.numpy(), probs.numpy(), interp.numpy(), icls.numpy(), idx.numpy()


def median_ms(fn):
    start = time.perf_counter()
    for i in range(args.warmup):
        fn()
        if i >= 1 and time.perf_counter() - start > args.budget / 3:
            break
    ts = []
    start = time.perf_counter()
    for _ in range(args.reps):
        t0 = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t0) * 1000)
        if len(ts) >= 3 and time.perf_counter() - start > args.budget:
            break
    ts.sort()
    return ts[len(ts) // 2]


def blas_library():
    """The BLAS shared library this process loaded (Debian's torch uses the system libblas.so.3:
    the reference BLAS unless OpenBLAS is installed, e.g. apt-get install libopenblas0-pthread)."""
    torch.mm(torch.ones(64, 64), torch.ones(64, 64))
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1] for line in f if "blas" in line.lower() and ".so" in line}
    except OSError:
        return "unknown"
    return ", ".join(sorted(libs)) or "none found"


result = {
    "threads": args.threads,
    "blas": blas_library(),
    "workload": args.workload,
    "torch": torch.__version__,
    "vqStepMs": median_ms(vq_step),
    "trainStepMs": median_ms(train_step),
    "interpretBatchMs": median_ms(interpret_batch),
    "batch": B,
    "reps": args.reps,
    "peakRssMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}
print(json.dumps(result))
sys.stdout.flush()
