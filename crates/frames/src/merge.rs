//! Folding runs together as they are appended, so stored runs are already the compressed form
//! a person would write.

use crate::seg::Seg;

/// Appends `s` after `segs`, folding it into the last run when the frames continue that run,
/// the way a person compresses a list by eye: `1,2,3` is `1-3`, and `2-8x2` followed by `10-19`
/// becomes `2-10x2,11-19`. Only the last two elements of `segs` are ever changed.
pub(crate) fn push_merge(segs: &mut Vec<Seg>, s: Seg) {
    let Some(last) = segs.last_mut() else {
        segs.push(s);
        return;
    };
    if !(last.is_run() && s.is_run()) {
        segs.push(s);
        return;
    }
    if last.len == 1 {
        let step = s.start as i128 - last.start as i128;
        if s.len == 1 || s.step() == step {
            *last = Seg::run(last.start, step, s.len + 1);
            return;
        }
        segs.push(s);
        return;
    }
    let st = last.step();
    if last.last() as i128 + st == s.start as i128 {
        if s.len == 1 || s.step() == st {
            last.len += s.len;
            return;
        }
        last.len += 1;
        let rest = if s.len == 2 {
            Seg::single(s.nth(1))
        } else {
            s.slice_raw(1, s.len)
        };
        push_merge(segs, rest);
        return;
    }
    // A two-frame run with a gap prints as `a,b` anyway, so its second frame may start a new
    // run instead (`1,3,4,5` → `1,3-5`); a unit pair `a-b` stays.
    if last.len == 2 && last.period != 1 {
        let second = last.last();
        let step = s.start as i128 - second as i128;
        if s.len == 1 || s.step() == step {
            // The first frame, now alone, may continue the run before it (`-3` then `-4,-6`
            // then `-7` is `-3--4,-6--7`, not `-3,-4,-6--7`).
            let first = Seg::single(last.start);
            segs.pop();
            push_merge_single(segs, first);
            segs.push(Seg::run(second, step, s.len + 1));
            return;
        }
    }
    segs.push(s);
}

/// Appends one frame, folding it into the last run only when it continues that run or joins a
/// lone frame (never splitting anything, so this cannot recurse).
fn push_merge_single(segs: &mut Vec<Seg>, f: Seg) {
    if let Some(last) = segs.last_mut() {
        if last.is_run() && last.len == 1 {
            let step = f.start as i128 - last.start as i128;
            *last = Seg::run(last.start, step, 2);
            return;
        }
        if last.is_run() && last.len > 1 && last.last() as i128 + last.step() == f.start as i128 {
            last.len += 1;
            return;
        }
    }
    segs.push(f);
}
