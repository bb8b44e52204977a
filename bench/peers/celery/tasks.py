"""The Celery side of bench:peers: a no-op task and a chord callback that calls the bench's webhook receiver,
as geojobs' saga followup does. Broker: the bench's RabbitMQ (a vhost of its own); results: the bench's Redis.
Configured as a user would: JSON, the default prefork pool and prefetch, results kept in the backend."""
import json
import os
import urllib.request

from celery import Celery

app = Celery('peers', broker=os.environ['PEERS_CELERY_BROKER'], backend=os.environ['PEERS_CELERY_BACKEND'])
app.conf.update(
    task_serializer='json',
    result_serializer='json',
    accept_content=['json'],
    worker_hijack_root_logger=False,
    worker_redirect_stdouts=False,
)


@app.task(name='peers.noop')
def noop():
    return None


@app.task(name='peers.callback')
def callback(_results, url, run_id):
    request = urllib.request.Request(url, data=json.dumps({'id': run_id}).encode(), headers={'content-type': 'application/json'}, method='POST')
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()
