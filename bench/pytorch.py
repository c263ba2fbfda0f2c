#!/usr/bin/env python3
"""Native PyTorch as a peer of `npm run bench`, started by bench/pytorch.mjs.

Worker mode (`pytorch.py --threads N`): one JSON message per line on stdin, one answer per line
on stdout, the same prepare / round / discard / finish conversation as the JS workers of
bench/run.mjs, so its samples are taken in turn with theirs and see the same phases of the
machine. The cases come with the prepare message (each JS case's `pytorch` spec), so shapes,
batches and models are written down once, in the JS case files. Timing mirrors
bench/measure.mjs (probe, calls per sample, tinybench's warm-up and time/iteration budget);
the raw per-call times go back and the JS side computes medians and spreads with its own code.

Memory mode (`pytorch.py --memory --threads N`, one case spec on stdin): runs that training
case in this fresh process and prints its peak RSS (VmHWM), for bench/train-memory.mjs.
"""
import json
import math
import os
import sys
import time

SAMPLE_MS = 4.0
PROBE_MS = 30.0
SLOW_CALL_MS = 250.0
MIN_SAMPLES_PER_ROUND = 5
SIDE = 28
PIXELS = SIDE * SIDE


def now_ms():
    return time.perf_counter_ns() / 1e6


class Measurement:
    """bench/measure.mjs's Measurement, keeping the per-call times only."""

    def __init__(self, fn):
        best = math.inf
        start = now_ms()
        i = 0
        while i < 50 and (i < 2 or now_ms() - start < PROBE_MS):
            t = now_ms()
            fn()
            best = min(best, now_ms() - t)
            i += 1
            if best > SLOW_CALL_MS:
                break
        self.slow = best > SLOW_CALL_MS
        self.calls = max(1, math.ceil(SAMPLE_MS / max(best, 1e-3)))
        calls = self.calls

        def task():
            for _ in range(calls):
                fn()
        self.task = fn if calls == 1 else task
        self.per_call_ms = []
        self.rounds = 0
        self.before = None

    def _loop(self, budget_ms, iterations, keep):
        total = 0.0
        n = 0
        while total < budget_ms or n < iterations:
            t = now_ms()
            self.task()
            d = now_ms() - t
            total += d
            n += 1
            if keep:
                self.per_call_ms.append(d / self.calls)

    def round(self, budget_ms):
        self.before = len(self.per_call_ms)
        first = self.rounds == 0
        self.rounds += 1
        if self.slow:
            self._loop(0, 1, True)
        else:
            self._loop(200 if first else 40, 5 if first else 2, False)
            self._loop(budget_ms, MIN_SAMPLES_PER_ROUND, True)

    def discard_last(self):
        if self.before is None:
            return
        del self.per_call_ms[self.before:]
        self.rounds -= 1
        self.before = None


def load_digits(torch, path):
    """The file bench/mnist.mjs writes: n (uint32), n·784 float32 pixels, n int32 labels."""
    with open(path, 'rb') as f:
        buf = bytearray(f.read())
    n = int.from_bytes(buf[:4], 'little')
    x = torch.frombuffer(buf, dtype=torch.float32, count=n * PIXELS, offset=4).view(n, PIXELS)
    y = torch.frombuffer(buf, dtype=torch.int32, count=n, offset=4 + 4 * n * PIXELS).long()
    return x, y


def batches(torch, x, y, batch):
    """The next shuffled batch each call, epoch after epoch (the last partial batch dropped)."""
    n = y.shape[0]
    state = {'order': None, 'pos': n}

    def next_batch():
        if state['pos'] + batch > n:
            state['order'] = torch.randperm(n)
            state['pos'] = 0
        idx = state['order'][state['pos']:state['pos'] + batch]
        state['pos'] += batch
        return x[idx], y[idx]
    return next_batch


def training_case(torch, spec, data):
    """One step function (and its log) for the mlp / cnn / lenet specs of the JS case files."""
    nn = torch.nn
    F = torch.nn.functional
    torch.manual_seed(1)
    kind = spec['kind']
    classes = spec['classes']
    if kind == 'mlp':
        first = nn.Linear(PIXELS, spec['hidden'])
        last = nn.Linear(spec['hidden'], classes)
        nn.init.kaiming_normal_(first.weight, nonlinearity='relu')
        nn.init.xavier_uniform_(last.weight)
        for layer in (first, last):
            nn.init.zeros_(layer.bias)
        model = nn.Sequential(first, nn.ReLU(), last)
        shape = (-1, PIXELS)
    elif kind == 'cnn':
        c1, c2 = spec['c1'], spec['c2']
        model = nn.Sequential(
            nn.Conv2d(1, c1, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(c2 * (SIDE // 4) ** 2, classes))
        shape = (-1, 1, SIDE, SIDE)
    elif kind == 'lenet':
        model = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(32 * 7 * 7, 128), nn.ReLU(), nn.Dropout(0.25),
            nn.Linear(128, classes))
        shape = (-1, 1, SIDE, SIDE)
    else:
        raise ValueError(f'unknown training case kind {kind}')
    model.train()
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, nonlinearity='relu')
    optimizer = torch.optim.Adam(model.parameters(), lr=spec['lr'])
    x = data[0]
    if spec.get('standardize'):
        mean, std = spec['standardize']
        x = (x - mean) / std
    next_batch = batches(torch, x, data[1], spec['batch'])

    def step():
        bx, by = next_batch()
        loss = F.cross_entropy(model(bx.view(shape)), by)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()

    losses = []
    warm = None
    if kind != 'mlp':  # the JS CNN cases run one untimed warm-up step at setup too
        warm = step()

    def summary():
        if not losses:
            return 'no steps'
        tail = losses[-20:]
        start = f'1 warm-up + {len(losses)} steps, loss {warm:.3f}' if warm is not None else f'{len(losses)} steps, loss {losses[0]:.3f}'
        return f'{start} -> {sum(tail) / len(tail):.3f} (mean of the last {len(tail)})'
    return (lambda: losses.append(step())), summary, step


def make_case(torch, spec, data):
    """(fn, summary) for one case spec; summary() gives the row's log line or None."""
    F = torch.nn.functional
    kind = spec['kind']
    if kind == 'gemm':
        M, N, K, ta, tb = spec['M'], spec['N'], spec['K'], spec['transA'], spec['transB']
        a = torch.randn((K, M) if ta else (M, K))
        b = torch.randn((N, K) if tb else (K, N))
        c = torch.zeros(M, N)
        a_op = a.t() if ta else a
        b_op = b.t() if tb else b
        return (lambda: torch.mm(a_op, b_op, out=c)), None
    if kind == 'softmax':
        x = torch.randn(spec['rows'], spec['cols'])

        def softmax():
            with torch.no_grad():
                torch.softmax(x, 1)
        return softmax, None
    if kind in ('conv_fwd', 'conv_bwd'):
        N, C, H, W, Fo = spec['N'], spec['C'], spec['H'], spec['W'], spec['F']
        x = torch.randn(N, C, H, W)
        w = torch.randn(Fo, C, 3, 3)
        if kind == 'conv_fwd':
            def forward():
                with torch.no_grad():
                    F.conv2d(x, w, padding=1)
            return forward, None
        x.requires_grad_(True)
        w.requires_grad_(True)
        dy = torch.randn(N, Fo, H, W)

        def backward():
            F.conv2d(x, w, padding=1).backward(dy)
            x.grad = None
            w.grad = None
        return backward, None
    fn, summary, _ = training_case(torch, spec, data)
    return fn, summary


def native_libraries():
    """The BLAS / LAPACK / OpenMP / oneDNN shared objects mapped into the process."""
    found = []
    try:
        with open('/proc/self/maps') as f:
            for line in f:
                path = line.split()[-1] if '/' in line else ''
                name = os.path.basename(path).lower()
                if any(k in name for k in ('blas', 'lapack', 'mkl', 'blis', 'gomp', 'omp', 'dnnl')) and path not in found:
                    found.append(path)
    except OSError:
        pass
    return [{'path': p, 'resolved': os.path.realpath(p)} for p in found]


def openblas_config(libs):
    """OpenBLAS' own description (version, core, thread model), if an OpenBLAS is loaded."""
    import ctypes
    for lib in libs:
        try:
            h = ctypes.CDLL(lib['path'])
            h.openblas_get_config.restype = ctypes.c_char_p
            cfg = h.openblas_get_config().decode()
            nthreads = h.openblas_get_num_threads() if hasattr(h, 'openblas_get_num_threads') else None
            return {'library': lib['resolved'], 'config': cfg, 'threads': nthreads}
        except (OSError, AttributeError):
            continue
    return None


def info(torch, threads):
    torch.mm(torch.randn(64, 64), torch.randn(64, 64))  # loads the BLAS if it is loaded lazily
    libs = native_libraries()
    config = torch.__config__.show()
    return {
        'version': torch.__version__,
        'python': sys.executable,
        'threads': torch.get_num_threads(),
        'asked_threads': threads,
        'interop_threads': torch.get_num_interop_threads(),
        'blas_info': next((p.split('=', 1)[1] for p in config.replace(',', '\n').split() if p.startswith('BLAS_INFO=')), None),
        'libraries': libs,
        'openblas': openblas_config([lib for lib in libs if 'blas' in os.path.basename(lib['resolved']).lower()]),
        'mkldnn': torch.backends.mkldnn.is_available() and torch.backends.mkldnn.enabled,
        'mkl': torch.backends.mkl.is_available(),
        'cpu_capability': next((ln.split(':', 1)[1].strip() for ln in config.splitlines() if 'CPU capability usage' in ln), None),
    }


def serve(torch, threads):
    cases = []  # per JS case, in CASES order: {'m': Measurement or None, 'summary', 'error', 'skipped', 'slow_rounds'}
    budget_ms = 200
    data = None

    def answer(x):
        sys.stdout.write(json.dumps(x) + '\n')
        sys.stdout.flush()

    for line in sys.stdin:
        msg = json.loads(line)
        cmd = msg['cmd']
        if cmd == 'prepare':
            budget_ms = msg['budget_ms']
            data = load_digits(torch, msg['data'])
            for c in msg['cases']:
                e = {'m': None, 'fn': None, 'summary': None, 'error': None, 'skipped': c['spec'] is None or (threads > 1 and not c['threads']), 'slow_rounds': c.get('slowRounds')}
                cases.append(e)
                if e['skipped']:
                    continue
                try:
                    e['fn'], e['summary'] = make_case(torch, c['spec'], data)
                except Exception as err:  # noqa: BLE001 - reported in the row, like the JS workers
                    e['error'] = f'{type(err).__name__}: {err}'
            # As in suite.mjs: every case is set up before any is probed.
            for c, e in zip(msg['cases'], cases):
                if e['fn'] is None:
                    continue
                try:
                    e['m'] = Measurement(e['fn'])
                except Exception as err:  # noqa: BLE001
                    e['error'] = f'{type(err).__name__}: {err}'
            answer({'info': info(torch, threads)})
        elif cmd == 'round':
            e = cases[msg['index']] if msg['index'] >= 0 else None
            m = e['m'] if e else None
            if m is not None and not (m.slow and e['slow_rounds'] is not None and m.rounds >= e['slow_rounds']):
                try:
                    m.round(budget_ms)
                except Exception as err:  # noqa: BLE001
                    e['error'] = f'{type(err).__name__}: {err}'
                    e['m'] = None
            answer('done')
        elif cmd == 'discard':
            e = cases[msg['index']] if msg['index'] >= 0 else None
            if e and e['m'] is not None:
                e['m'].discard_last()
            answer('done')
        elif cmd == 'finish':
            answer({'info': info(torch, threads), 'cases': [{
                'perCallMs': e['m'].per_call_ms if e['m'] is not None else None,
                'extra': e['summary']() if e['summary'] and e['m'] is not None else None,
                'error': e['error'], 'skipped': e['skipped'],
            } for e in cases]})
            return


def vm_kib(field):
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1])
    return None


def memory(torch, threads):
    """Peak RSS of one training case in this fresh process: setup, then steps for ~1 s (one at least), as train-memory.mjs."""
    msg = json.loads(sys.stdin.readline())
    data = load_digits(torch, msg['data'])
    before = vm_kib('VmRSS') * 1024
    _, _, step = training_case(torch, msg['spec'], data)
    steps = 0
    start = now_ms()
    while steps < 1 or (now_ms() - start < 1000 and steps < 200):
        step()
        steps += 1
    print(json.dumps({'rss_bytes': vm_kib('VmHWM') * 1024, 'rss_before_model_bytes': before, 'steps': steps, 'threads': torch.get_num_threads()}))


def main():
    threads = int(sys.argv[sys.argv.index('--threads') + 1]) if '--threads' in sys.argv else 1
    import torch
    torch.set_num_threads(threads)
    torch.set_num_interop_threads(1)
    if '--memory' in sys.argv:
        memory(torch, threads)
    else:
        serve(torch, threads)


if __name__ == '__main__':
    main()
