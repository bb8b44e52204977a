"""The client side of Celery for bench:peers, driven by the Node.js bench over stdin/stdout, one JSON line each way:
  {"cmd": "fanout", "n": 1000, "url": "...", "id": "..."}  submits a chord of n no-op tasks with the callback; replies
                                                           once submitted (the bench times until its webhook arrives)
  {"cmd": "throughput", "n": 10000}                       submits n no-op tasks one by one (apply_async, as an app
                                                           would) and replies once all n results are in the backend
                                                           (its key count, polled every 10 ms: no per-task round trip)
Prints {"ready": true} first, once the broker and the backend answer."""
import json
import sys
import time

from celery import chord
from tasks import app, callback, noop


def reply(value):
    sys.stdout.write(json.dumps(value) + '\n')
    sys.stdout.flush()


def main():
    backend = app.backend.client  # the redis-py client of the result backend
    backend.ping()
    with app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=3)
    reply({'ready': True})
    for line in sys.stdin:
        command = json.loads(line)
        if command['cmd'] == 'fanout':
            chord(noop.s() for _ in range(command['n']))(callback.s(command['url'], command['id']))
            reply({'submitted': True})
        elif command['cmd'] == 'throughput':
            baseline = backend.dbsize()
            start = time.perf_counter()
            with app.producer_or_acquire() as producer:
                for _ in range(command['n']):
                    noop.apply_async(producer=producer)
            submitted = time.perf_counter() - start
            while backend.dbsize() < baseline + command['n']:
                time.sleep(0.01)
            reply({'ms': (time.perf_counter() - start) * 1000, 'submittedMs': submitted * 1000})
        else:
            reply({'error': f"unknown command {command['cmd']}"})


main()
