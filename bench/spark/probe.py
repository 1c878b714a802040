"""Produces one Kafka message per line of stdin (the line's text) to TOPIC, waits for its
acknowledgement and prints `acked`: bench.mjs's probes for the latency from an event to its window.

    probe.py BROKERS TOPIC
"""

import sys

from confluent_kafka import Producer

brokers, topic = sys.argv[1:3]
producer = Producer({'bootstrap.servers': brokers, 'linger.ms': 0, 'acks': 'all'})
for line in sys.stdin:
    producer.produce(topic, value=line.rstrip('\n').encode('utf-8'), partition=0)
    producer.flush(30)
    print('acked', flush=True)
