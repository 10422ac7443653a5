import asyncio, cProfile, pstats, os, time, json, httpx, nats, sys
from bench._stack import stack
from pyoco_server.settings import Settings
from pyoco_worker.worker import Worker
from pyoco_worker.execution import InProcessExecutor
from pyoco_worker.flows import FlowSource
from bench.flows import resolve

N = 2000
async def submit(url):
    lim = asyncio.Semaphore(64)
    async with httpx.AsyncClient(base_url=url, timeout=60) as c:
        async def one():
            async with lim:
                await c.post("/runs", json={"flow_name": "trivial", "params": {"x": 1}})
        await asyncio.gather(*(one() for _ in range(N)))

async def work(nats_url):
    s = Settings.from_env({"PYOCO_NATS_URL": nats_url, "PYOCO_LOAD_DOTENV": "0"})
    stop = asyncio.Event()
    w = Worker(s, worker_id="p", tags=["default"], executor=InProcessExecutor(FlowSource(resolve)), concurrency=int(sys.argv[1]) if len(sys.argv)>1 else 1)
    nc = await nats.connect(nats_url); done = 0; ev = asyncio.Event()
    async def cb(msg):
        nonlocal done
        if msg.data and json.loads(msg.data)["status"] == "COMPLETED":
            done += 1
            if done == N: ev.set()
    await nc.subscribe("$KV.pyoco_runs.>", cb=cb)
    task = asyncio.create_task(w.run(stop))
    await ev.wait(); stop.set(); await task

with stack(worker=False) as s:
    asyncio.run(submit(s.gateway_url))
    prof = cProfile.Profile()
    t = time.perf_counter(); c0 = time.process_time()
    prof.enable()
    asyncio.run(work(s.nats_url))
    prof.disable()
    el = time.perf_counter() - t; cpu = time.process_time() - c0
    print(f"{N/el:.0f} runs/s, cpu {cpu*1000/N:.2f} ms/run (profiled)")
    pstats.Stats(prof).sort_stats("tottime").print_stats(30)
