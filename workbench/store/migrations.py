"""The store's schema, as an ordered list of steps (sqlite-utils `Migrations`).

Never edit a step that has shipped: add a new one. A store remembers which steps it has in
`_sqlite_migrations`; a store holding a step this version lacks is from a newer version and
is refused (see `database._refuse_newer`).
"""

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

MIGRATIONS = Migrations("workbench")

# Full-text search folds case and diacritics ("Müller" finds "muller") and splits Cyrillic
# on word boundaries like Latin.
FTS_TOKENIZER = "unicode61 remove_diacritics 2"


@MIGRATIONS(name="0001_initial")
def initial(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE cases (
            id INTEGER PRIMARY KEY,
            title TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('open', 'referred', 'closed')),
            investigator TEXT,
            summary TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );

        CREATE TABLE entities (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            attrs TEXT NOT NULL DEFAULT '{}',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            UNIQUE (kind, key)
        );

        CREATE TABLE case_entities (
            case_id INTEGER NOT NULL REFERENCES cases(id),
            entity_id INTEGER NOT NULL REFERENCES entities(id),
            added_at TEXT NOT NULL,
            PRIMARY KEY (case_id, entity_id)
        ) WITHOUT ROWID;
        CREATE INDEX case_entities_by_entity ON case_entities (entity_id, case_id);

        CREATE TABLE evidence (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            size INTEGER NOT NULL,
            media_type TEXT NOT NULL,
            content BLOB NOT NULL,
            captured_at TEXT NOT NULL,
            recorded_at TEXT NOT NULL,
            source TEXT,
            query TEXT,
            filename TEXT,
            imported INTEGER NOT NULL DEFAULT 0,
            note TEXT,
            text TEXT
        );
        CREATE UNIQUE INDEX evidence_identity
            ON evidence (sha256, captured_at, ifnull(source, ''), ifnull(query, ''));

        -- Evidence is immutable: what was received is what the court sees.
        CREATE TRIGGER evidence_no_update BEFORE UPDATE ON evidence
        BEGIN SELECT RAISE(ABORT, 'evidence is immutable'); END;
        CREATE TRIGGER evidence_no_delete BEFORE DELETE ON evidence
        BEGIN SELECT RAISE(ABORT, 'evidence is immutable'); END;

        CREATE TABLE case_evidence (
            case_id INTEGER NOT NULL REFERENCES cases(id),
            evidence_id INTEGER NOT NULL REFERENCES evidence(id),
            added_at TEXT NOT NULL,
            PRIMARY KEY (case_id, evidence_id)
        ) WITHOUT ROWID;
        CREATE INDEX case_evidence_by_evidence ON case_evidence (evidence_id);

        CREATE TABLE links (
            id INTEGER PRIMARY KEY,
            src_id INTEGER NOT NULL REFERENCES entities(id),
            type TEXT NOT NULL,
            dst_id INTEGER NOT NULL REFERENCES entities(id),
            label TEXT NOT NULL DEFAULT '',
            confidence REAL NOT NULL DEFAULT 1.0 CHECK (confidence >= 0 AND confidence <= 1),
            created_at TEXT NOT NULL,
            UNIQUE (src_id, type, dst_id, label)
        );
        CREATE INDEX links_by_dst ON links (dst_id, type);

        CREATE TABLE link_cases (
            link_id INTEGER NOT NULL REFERENCES links(id),
            case_id INTEGER NOT NULL REFERENCES cases(id),
            PRIMARY KEY (link_id, case_id)
        ) WITHOUT ROWID;
        CREATE INDEX link_cases_by_case ON link_cases (case_id, link_id);

        CREATE TABLE link_evidence (
            link_id INTEGER NOT NULL REFERENCES links(id),
            evidence_id INTEGER NOT NULL REFERENCES evidence(id),
            PRIMARY KEY (link_id, evidence_id)
        ) WITHOUT ROWID;
        CREATE INDEX link_evidence_by_evidence ON link_evidence (evidence_id);

        CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            case_id INTEGER NOT NULL REFERENCES cases(id),
            at TEXT NOT NULL,
            kind TEXT NOT NULL,
            text TEXT NOT NULL,
            deadline TEXT,
            outcome TEXT,
            created_at TEXT NOT NULL
        );
        CREATE INDEX events_by_case ON events (case_id, at);

        CREATE TABLE event_entities (
            event_id INTEGER NOT NULL REFERENCES events(id),
            entity_id INTEGER NOT NULL REFERENCES entities(id),
            PRIMARY KEY (event_id, entity_id)
        ) WITHOUT ROWID;
        CREATE INDEX event_entities_by_entity ON event_entities (entity_id);

        -- Attribute values that pivot (a licence number, an operator name) indexed so that
        -- "who else has this value" is one lookup.
        CREATE TABLE entity_values (
            name TEXT NOT NULL,
            value TEXT NOT NULL,
            entity_id INTEGER NOT NULL REFERENCES entities(id),
            PRIMARY KEY (name, value, entity_id)
        ) WITHOUT ROWID;
        CREATE INDEX entity_values_by_entity ON entity_values (entity_id);

        -- The audit chain: each row's hash covers the previous row's hash and this change.
        CREATE TABLE audit (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            action TEXT NOT NULL,
            subject TEXT NOT NULL,
            subject_id INTEGER,
            payload TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL
        );
        CREATE INDEX audit_by_subject ON audit (subject, subject_id);
        CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
        CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
        """
    )
    db["entities"].enable_fts(
        ["value", "key", "attrs"], fts_version="FTS5", tokenize=FTS_TOKENIZER, create_triggers=True
    )
    db["events"].enable_fts(
        ["text", "outcome"], fts_version="FTS5", tokenize=FTS_TOKENIZER, create_triggers=True
    )
    db["evidence"].enable_fts(
        ["text", "query", "source", "filename"],
        fts_version="FTS5",
        tokenize=FTS_TOKENIZER,
        create_triggers=True,
    )


@MIGRATIONS(name="0002_case_archive")
def case_archive(db: Database) -> None:
    """Cases can be archived: out of the default list, never deleted."""
    db.execute("ALTER TABLE cases ADD COLUMN archived_at TEXT")
    db.execute("CREATE INDEX cases_by_archived ON cases (archived_at, updated_at)")


@MIGRATIONS(name="0003_lookups")
def lookups(db: Database) -> None:
    """Lookup snapshots (one per lookup of one kind, success or failure) and bulk runs
    that can be resumed after an interruption."""
    db.executescript(
        """
        CREATE TABLE lookup_runs (
            id INTEGER PRIMARY KEY,
            case_id INTEGER REFERENCES cases(id),
            created_at TEXT NOT NULL,
            options TEXT NOT NULL DEFAULT '{}',
            finished_at TEXT
        );

        CREATE TABLE lookup_run_items (
            run_id INTEGER NOT NULL REFERENCES lookup_runs(id),
            position INTEGER NOT NULL,
            query TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done')),
            finished_at TEXT,
            PRIMARY KEY (run_id, position)
        ) WITHOUT ROWID;
        CREATE INDEX lookup_run_items_pending ON lookup_run_items (run_id, state);

        CREATE TABLE snapshots (
            id INTEGER PRIMARY KEY,
            entity_id INTEGER NOT NULL REFERENCES entities(id),
            protocol TEXT NOT NULL,
            status TEXT NOT NULL,
            reason TEXT,
            taken_at TEXT NOT NULL,
            summary TEXT NOT NULL DEFAULT '{}',
            imported INTEGER NOT NULL DEFAULT 0,
            case_id INTEGER REFERENCES cases(id),
            run_id INTEGER REFERENCES lookup_runs(id)
        );
        CREATE INDEX snapshots_by_entity ON snapshots (entity_id, protocol, taken_at);
        CREATE INDEX snapshots_by_case ON snapshots (case_id, taken_at);

        CREATE TABLE snapshot_evidence (
            snapshot_id INTEGER NOT NULL REFERENCES snapshots(id),
            evidence_id INTEGER NOT NULL REFERENCES evidence(id),
            PRIMARY KEY (snapshot_id, evidence_id)
        ) WITHOUT ROWID;
        CREATE INDEX snapshot_evidence_by_evidence ON snapshot_evidence (evidence_id);
        """
    )


@MIGRATIONS(name="0004_entity_case_counts")
def entity_case_counts(db: Database) -> None:
    """In how many cases each entity is, kept by triggers on `case_entities`.

    The cross-case query leaves out entities too common to be leads (a big registrar or a
    hosting company's nameserver, in thousands of cases); counting each entity's cases at
    query time cost more than the rest of the query (docs/benchmarks.md).
    """
    db.executescript(
        """
        CREATE TABLE entity_case_counts (
            entity_id INTEGER PRIMARY KEY REFERENCES entities(id),
            cases INTEGER NOT NULL
        );
        INSERT INTO entity_case_counts (entity_id, cases)
            SELECT entity_id, count(*) FROM case_entities GROUP BY entity_id;
        CREATE TRIGGER case_entities_count_ai AFTER INSERT ON case_entities BEGIN
            INSERT INTO entity_case_counts (entity_id, cases) VALUES (new.entity_id, 1)
            ON CONFLICT (entity_id) DO UPDATE SET cases = cases + 1;
        END;
        CREATE TRIGGER case_entities_count_ad AFTER DELETE ON case_entities BEGIN
            UPDATE entity_case_counts SET cases = cases - 1 WHERE entity_id = old.entity_id;
        END;
        """
    )


# Entities and pivot values in more cases than this keep no case list (`related_cases`
# leaves them out as commonplace: pivots.COMMONPLACE_CASES is this number). A later
# version that moves the cut must rebuild the lists in a new step.
LISTED_CASES = 100


@MIGRATIONS(name="0005_case_lists")
def case_lists(db: Database) -> None:
    """What `related_cases` reads, kept by triggers so that it reads a few hundred rows
    per case instead of expanding every shared entity into every case holding it.

    - `entity_case_counts.case_list`: the cases of each entity as text (",3,17,"), kept
      while the entity is in at most LISTED_CASES cases (NULL beyond: commonplace).
    - `value_cases`: for each pivot value (a licence number, an AS number), the cases
      holding an entity with it, and how many such entities each holds.
    - `value_case_lists`: per pivot value, its number of cases and (up to LISTED_CASES)
      their list, as for entities.
    - `links_by_dst` becomes covering (src_id, label): a pivot on a hub reads its
      incoming links from the index alone.

    Measured at 100,000 entities, a typical case's related cases went from 12,400 joined
    rows to ~760 (docs/benchmarks.md).
    """
    n = LISTED_CASES
    db.executescript(
        f"""
        ALTER TABLE entity_case_counts ADD COLUMN case_list TEXT;
        UPDATE entity_case_counts SET case_list = (
            SELECT ',' || group_concat(case_id, ',') || ',' FROM case_entities
            WHERE entity_id = entity_case_counts.entity_id
        ) WHERE cases BETWEEN 1 AND {n};
        DROP TRIGGER case_entities_count_ai;
        DROP TRIGGER case_entities_count_ad;
        CREATE TRIGGER case_entities_count_ai AFTER INSERT ON case_entities BEGIN
            INSERT INTO entity_case_counts (entity_id, cases, case_list)
            VALUES (new.entity_id, 1, ',' || new.case_id || ',')
            ON CONFLICT (entity_id) DO UPDATE SET
                cases = cases + 1,
                case_list = CASE WHEN cases + 1 <= {n}
                            THEN ifnull(case_list, ',') || new.case_id || ',' END;
            INSERT INTO value_cases (name, value, case_id, entities)
                SELECT name, value, new.case_id, 1 FROM entity_values
                WHERE entity_id = new.entity_id AND true
            ON CONFLICT (name, value, case_id) DO UPDATE SET entities = entities + 1;
        END;
        CREATE TRIGGER case_entities_count_ad AFTER DELETE ON case_entities BEGIN
            UPDATE entity_case_counts SET
                cases = cases - 1,
                case_list = CASE WHEN cases - 1 <= {n} THEN (
                    SELECT ',' || group_concat(case_id, ',') || ',' FROM case_entities
                    WHERE entity_id = old.entity_id
                ) END
            WHERE entity_id = old.entity_id;
            UPDATE value_cases SET entities = entities - 1
            WHERE case_id = old.case_id AND (name, value) IN (
                SELECT name, value FROM entity_values WHERE entity_id = old.entity_id);
            DELETE FROM value_cases WHERE case_id = old.case_id AND entities <= 0;
        END;

        CREATE TABLE value_cases (
            name TEXT NOT NULL,
            value TEXT NOT NULL,
            case_id INTEGER NOT NULL REFERENCES cases(id),
            entities INTEGER NOT NULL,
            PRIMARY KEY (name, value, case_id)
        ) WITHOUT ROWID;
        CREATE INDEX value_cases_by_case ON value_cases (case_id, name, value);
        INSERT INTO value_cases (name, value, case_id, entities)
            SELECT v.name, v.value, ce.case_id, count(*) FROM entity_values v
            JOIN case_entities ce ON ce.entity_id = v.entity_id
            GROUP BY v.name, v.value, ce.case_id;

        CREATE TABLE value_case_lists (
            name TEXT NOT NULL,
            value TEXT NOT NULL,
            cases INTEGER NOT NULL,
            case_list TEXT,
            PRIMARY KEY (name, value)
        ) WITHOUT ROWID;
        INSERT INTO value_case_lists (name, value, cases, case_list)
            SELECT name, value, count(*),
                   CASE WHEN count(*) <= {n} THEN ',' || group_concat(case_id, ',') || ',' END
            FROM value_cases GROUP BY name, value;

        CREATE TRIGGER value_cases_ai AFTER INSERT ON value_cases BEGIN
            INSERT INTO value_case_lists (name, value, cases, case_list)
            VALUES (new.name, new.value, 1, ',' || new.case_id || ',')
            ON CONFLICT (name, value) DO UPDATE SET
                cases = cases + 1,
                case_list = CASE WHEN cases + 1 <= {n}
                            THEN ifnull(case_list, ',') || new.case_id || ',' END;
        END;
        CREATE TRIGGER value_cases_ad AFTER DELETE ON value_cases BEGIN
            UPDATE value_case_lists SET
                cases = cases - 1,
                case_list = CASE WHEN cases - 1 <= {n} THEN (
                    SELECT ',' || group_concat(case_id, ',') || ',' FROM value_cases
                    WHERE name = old.name AND value = old.value
                ) END
            WHERE name = old.name AND value = old.value;
            DELETE FROM value_case_lists WHERE name = old.name AND value = old.value
                AND cases <= 0;
        END;
        CREATE TRIGGER entity_values_cases_ai AFTER INSERT ON entity_values BEGIN
            INSERT INTO value_cases (name, value, case_id, entities)
                SELECT new.name, new.value, case_id, 1 FROM case_entities
                WHERE entity_id = new.entity_id AND true
            ON CONFLICT (name, value, case_id) DO UPDATE SET entities = entities + 1;
        END;
        CREATE TRIGGER entity_values_cases_ad AFTER DELETE ON entity_values BEGIN
            UPDATE value_cases SET entities = entities - 1
            WHERE name = old.name AND value = old.value AND case_id IN (
                SELECT case_id FROM case_entities WHERE entity_id = old.entity_id);
            DELETE FROM value_cases WHERE name = old.name AND value = old.value
                AND entities <= 0;
        END;

        DROP INDEX links_by_dst;
        CREATE INDEX links_by_dst ON links (dst_id, type, src_id, label);
        """
    )


@MIGRATIONS(name="0006_entities_by_name")
def entities_by_name(db: Database) -> None:
    """An index of entities in name order, as the entity table sorts them
    (`ui_queries.ENTITY_ORDERS["name"]`: the value without regard to case, then the id).

    Sorting a case of 200,000 entities by name sorted the whole case for every page
    (~1.3 s of CPU; ~7 s at a million); a large case's table now walks this index and
    reads a page's rows only (docs/benchmarks.md). Built in one pass for existing stores.
    """
    db.execute("CREATE INDEX entities_by_name ON entities (value COLLATE NOCASE, id)")
