/* SPDX-License-Identifier: Apache-2.0 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "event_queue.h"
#include "events.h"
#include "google/protobuf/any.pb-c.h"
#include "io/log.h"
#include "v2_events.h"

/* msg in an Any, packed (heap), or NULL. */
static uint8_t *encode(const char *type, const ProtobufCMessage *msg, size_t *ret_len)
{
	Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
	size_t n = protobuf_c_message_get_packed_size(msg), an;
	uint8_t *v = malloc(n ? n : 1), *buf = NULL;

	if (!v)
		return NULL;
	protobuf_c_message_pack(msg, v);
	any.type_url = (char *)type;
	any.value.data = v;
	any.value.len = n;
	an = google__protobuf__any__get_packed_size(&any);
	if ((buf = malloc(an ? an : 1))) {
		google__protobuf__any__pack(&any, buf);
		*ret_len = an;
	}
	free(v);
	return buf;
}

/* An OOM repeated while the last one is still queued says nothing new: containerd only
 * marks the container OOM-killed. Coalesced so that a container's OOM loop while containerd
 * is away (events wait for it, docs/events.md) does not grow the queue without bound. */
static unsigned topic_flags(const char *topic)
{
	return strcmp(topic, "/tasks/oom") == 0 ? EVQ_COALESCE : 0;
}

void v2_event(const char *topic, const char *type, const ProtobufCMessage *msg)
{
	size_t len = 0;
	uint8_t *buf = encode(type, msg, &len);

	if (!buf) {
		log_error("out of memory: event %s lost", topic);
		return;
	}
	events_publish(topic, buf, len, topic_flags(topic), topic, NULL, NULL);
	free(buf);
}

/* Exits held while a Start is in flight. */
struct held_exit {
	char *topic; /* an event other than an exit (any, len), else NULL */
	uint8_t *any;
	size_t len;
	char *container_id, *id;
	uint32_t pid, exit_status;
	struct timespec exited_at;
	void (*done)(void *);
	void *arg;
	struct held_exit *next;
};

static struct {
	pthread_mutex_t mu;
	unsigned starting;
	struct held_exit *head, **tail;
} H = { .mu = PTHREAD_MUTEX_INITIALIZER, .tail = &H.head };

void v2_start_begin(void)
{
	pthread_mutex_lock(&H.mu);
	H.starting++;
	pthread_mutex_unlock(&H.mu);
}

void v2_start_end(void)
{
	struct held_exit *h = NULL;

	pthread_mutex_lock(&H.mu);
	if (--H.starting == 0) {
		h = H.head;
		H.head = NULL;
		H.tail = &H.head;
	}
	pthread_mutex_unlock(&H.mu);
	while (h) {
		struct held_exit *next = h->next;
		if (h->topic)
			events_publish(h->topic, h->any, h->len, topic_flags(h->topic), h->topic,
				       NULL, NULL);
		else
			events_publish_exit(h->container_id, h->id, h->pid, h->exit_status,
					    &h->exited_at, h->done, h->arg);
		free(h->topic);
		free(h->any);
		free(h->container_id);
		free(h->id);
		free(h);
		h = next;
	}
}

void v2_exit_sink(const char *container_id, const char *id, uint32_t pid, uint32_t exit_status,
		  const struct timespec *exited_at, void (*done)(void *), void *arg)
{
	struct held_exit *h = NULL;

	pthread_mutex_lock(&H.mu);
	if (H.starting > 0 && (h = calloc(1, sizeof(*h))) &&
	    (h->container_id = strdup(container_id)) && (h->id = strdup(id))) {
		h->pid = pid;
		h->exit_status = exit_status;
		h->exited_at = *exited_at;
		h->done = done;
		h->arg = arg;
		*H.tail = h;
		H.tail = &h->next;
		pthread_mutex_unlock(&H.mu);
		return;
	}
	pthread_mutex_unlock(&H.mu);
	if (h) {
		free(h->container_id);
		free(h);
	}
	events_publish_exit(container_id, id, pid, exit_status, exited_at, done, arg);
}

void v2_event_held(const char *topic, const char *type, const ProtobufCMessage *msg)
{
	size_t len = 0;
	uint8_t *buf = encode(type, msg, &len);
	struct held_exit *h = NULL;

	if (!buf) {
		log_error("out of memory: event %s lost", topic);
		return;
	}
	pthread_mutex_lock(&H.mu);
	if (H.starting > 0 && (h = calloc(1, sizeof(*h))) && (h->topic = strdup(topic))) {
		h->any = buf;
		h->len = len;
		*H.tail = h;
		H.tail = &h->next;
		pthread_mutex_unlock(&H.mu);
		return;
	}
	pthread_mutex_unlock(&H.mu);
	free(h);
	events_publish(topic, buf, len, topic_flags(topic), topic, NULL, NULL);
	free(buf);
}
