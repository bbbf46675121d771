//! Advisory locks with a holder (`user@host:pid`), heartbeat and expiry, so "who has SH010
//! COMP open" has an answer and a crashed holder does not block anyone forever.

use crate::sql::{params, OptionalExt};
use serde_json::json;

use crate::actor::Actor;
use crate::error::{Result, SqlContext, StoreError};
use crate::model::Lock;
use crate::store::{acting_user, event, Store};

impl Store {
    /// Takes (or renews, if already ours) the lock on `what` for `ttl_secs`. An expired lock of
    /// someone else is taken over, and the takeover is in the audit trail.
    pub fn acquire_lock(&mut self, actor: &Actor, what: &str, ttl_secs: i64) -> Result<Lock> {
        if what.is_empty() || ttl_secs <= 0 {
            return Err(StoreError::Invalid {
                what: "lock",
                value: format!("{what:?} for {ttl_secs}s"),
                expected: "a name and a positive duration".into(),
            });
        }
        let path = self.path.clone();
        let tx = self.write_tx()?;
        let (user_id, _) = acting_user(&tx, &path, actor)?;
        let now = crate::time::now();
        let owner = actor.owner();
        let held: Option<(String, String, String)> = tx
            .query_row(
                "SELECT owner, expires_at, acquired_at FROM locks WHERE what = ?1",
                params![what],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .db(&path)?;
        let acquired_at = match held {
            Some((o, _, since)) if o == owner => since,
            Some((o, expires, _)) if expires > now => {
                return Err(StoreError::Locked {
                    what: what.to_string(),
                    owner: o,
                    expires,
                })
            }
            Some((o, _, _)) => {
                event(
                    &tx,
                    &path,
                    actor,
                    "lock.takeover",
                    "lock",
                    None,
                    what,
                    &json!({"expired_owner": o}),
                )?;
                now.clone()
            }
            None => now.clone(),
        };
        let expires_at = crate::time::in_seconds(ttl_secs);
        tx.execute(
            "INSERT INTO locks (what, user_id, owner, acquired_at, heartbeat_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (what) DO UPDATE SET user_id = excluded.user_id, owner = excluded.owner,
               acquired_at = excluded.acquired_at, heartbeat_at = excluded.heartbeat_at,
               expires_at = excluded.expires_at",
            params![what, user_id, owner, acquired_at, now, expires_at],
        )
        .db(&path)?;
        tx.commit().db(&path)?;
        Ok(Lock {
            what: what.to_string(),
            owner,
            acquired_at,
            heartbeat_at: now,
            expires_at,
        })
    }

    /// Releases our lock on `what`; returns false if we did not hold it.
    pub fn release_lock(&mut self, actor: &Actor, what: &str) -> Result<bool> {
        let path = self.path.clone();
        let n = self
            .conn
            .execute(
                "DELETE FROM locks WHERE what = ?1 AND owner = ?2",
                params![what, actor.owner()],
            )
            .db(&path)?;
        Ok(n > 0)
    }

    /// Locks currently held (expired ones included: their holder may be dead).
    pub fn locks(&self) -> Result<Vec<Lock>> {
        let mut st = self
            .conn
            .prepare("SELECT what, owner, acquired_at, heartbeat_at, expires_at FROM locks ORDER BY what")
            .db(&self.path)?;
        let rows = st
            .query_map(params![], |r| {
                Ok(Lock {
                    what: r.get(0)?,
                    owner: r.get(1)?,
                    acquired_at: r.get(2)?,
                    heartbeat_at: r.get(3)?,
                    expires_at: r.get(4)?,
                })
            })
            .db(&self.path)?;
        rows.collect::<crate::sql::Result<_>>().db(&self.path)
    }
}
