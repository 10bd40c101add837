"""PyTorch peer of bench/worker.ts: the same models A-D and torchvision's resnet18 as E, SGD, softmax cross-entropy, random data; NCHW layout.

Prints one JSON line: {"train_ips", "infer_ips", "peak_rss_mb"}; each figure is the median of the repetitions
after a warm-up. Run with Debian's /usr/bin/python3 (python3-torch with libopenblas0-openmp).
"""
import argparse
import json
import resource
import statistics
import time

import torch
import torch.nn as nn

p = argparse.ArgumentParser()
p.add_argument("--model", required=True)
p.add_argument("--threads", type=int, required=True)
p.add_argument("--steps", type=int, default=5)
p.add_argument("--reps", type=int, default=3)
p.add_argument("--size", type=int, default=2048)
p.add_argument("--budget", type=float, default=0, help="accepted for symmetry with the JavaScript workers; PyTorch is never cut short")
args = p.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(1)


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


if args.model == "sgemm":
    n = args.size
    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.mm(a, b)
    t = statistics.median(timed(lambda: torch.mm(a, b)) for _ in range(args.reps))
    print(json.dumps({"train_ips": 2 * n ** 3 / t / 1e9, "infer_ips": 0, "peak_rss_mb": peak_rss_mb()}))
    raise SystemExit(0)


def conv(cin, cout, stride=1, padding=1):
    return [nn.Conv2d(cin, cout, 3, stride=stride, padding=padding), nn.ReLU()]


if args.model == "A":
    batch, shape = 128, (3, 32, 32)
    layers = conv(3, 16) + conv(16, 16, 2) + conv(16, 32) + conv(32, 32, 2) + [nn.Dropout(0.5), nn.Flatten(), nn.Linear(2048, 10)]
elif args.model == "B":
    batch, shape = 128, (1, 32, 32)
    layers = [nn.Conv2d(1, 6, 5), nn.ReLU(), nn.AvgPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(), nn.AvgPool2d(2),
              nn.Conv2d(16, 120, 5), nn.ReLU(), nn.Flatten(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10)]
elif args.model == "C":
    batch, shape = 64, (3, 32, 32)
    layers = conv(3, 64, 1, 0) + [nn.MaxPool2d(2), nn.Flatten(), nn.Linear(15 * 15 * 64, 100), nn.ReLU(), nn.Linear(100, 10)]
elif args.model == "D":
    batch, shape = 64, (3, 32, 32)
    layers, cin = [], 3
    for f in (128, 256, 512):
        layers += [nn.Conv2d(cin, f, 3, padding=1), nn.BatchNorm2d(f), nn.LeakyReLU(0.01), nn.MaxPool2d(2)]
        cin = f
    layers += [nn.Flatten(), nn.Linear(4 * 4 * 512, 512), nn.BatchNorm1d(512), nn.LeakyReLU(0.01), nn.Linear(512, 10)]
elif args.model == "E":
    import torchvision  # Debian's python3-torchvision

    batch, shape = 32, (3, 224, 224)
    layers = None
else:
    raise SystemExit(f"unknown model {args.model}")

model = torchvision.models.resnet18() if layers is None else nn.Sequential(*layers)
opt = torch.optim.SGD(model.parameters(), lr=0.01)
loss_fn = nn.CrossEntropyLoss()
x = torch.randn(batch, *shape)
y = torch.arange(batch) % 10


def step():
    opt.zero_grad()
    loss_fn(model(x), y).backward()
    opt.step()


def train_run():
    for _ in range(args.steps):
        step()


def infer_run():
    with torch.no_grad():
        for _ in range(args.steps):
            model(x)


model.train()
step()
step()
train = statistics.median(timed(train_run) for _ in range(args.reps))
model.eval()
infer_run()
infer = statistics.median(timed(infer_run) for _ in range(args.reps))
print(json.dumps({"train_ips": batch * args.steps / train, "infer_ips": batch * args.steps / infer, "peak_rss_mb": peak_rss_mb()}))
