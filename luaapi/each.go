package luaapi

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"wps/webpubsub"
)

// wps.each(list, fn, {concurrency=n}) calls fn(item, index) for every item
// with at most n REST calls in flight.
//
// A Lua state runs on one goroutine, and a function cannot be moved to
// another state, so fn cannot run in parallel. Instead, each item runs in a
// coroutine of the script's own state, and the REST calls are what runs in
// parallel: when a wps operation is called on one of these coroutines, it
// does not block; it yields the prepared call to the loop below, which
// performs it on a goroutine and resumes the coroutine with the result once
// it arrives. Meanwhile the loop starts or resumes the other coroutines. So
// up to n items are in progress, each waiting for at most one call, and the
// Lua code itself never runs concurrently.
//
// A failed call does not resume its coroutine: the item ends with the
// call's error, exactly as if the error had been raised inside fn and not
// caught. That is only equivalent when nothing between fn and the operation
// could catch it, so an operation yields only when it is called by Lua code
// running directly in the coroutine (canYield). Under a pcall, in a
// metamethod or in a callback of a Go function such as table.sort, the
// operation simply blocks as outside wps.each: still correct, just not
// concurrent. (gopher-lua cannot yield from there anyway.) Other blocking
// functions (sleep, wps.connect's methods) also block the whole loop.
//
// When fn ends with "return wps.op(...)", Lua's tail call replaces fn's
// frame by the operation's, so the coroutine ends when the operation
// yields; the loop then takes the call's result as fn's.

// defaultConcurrency is how many items wps.each runs at once by default.
const defaultConcurrency = 8

// pendingCall is what an operation yields on a wps.each coroutine: the call
// to make and the client to make it with.
type pendingCall struct {
	call   call
	client *webpubsub.Client
}

// canYield reports whether the wps function running on a wps.each
// coroutine may yield: only when the Lua code that called it runs directly
// in the coroutine's own interpreter loop. gopher-lua runs the functions
// that Go code calls (pcall's function, a table.sort comparator, a
// metamethod such as __index) in a nested loop, and a yield from there
// returns to the wrong place; it has no API to tell, so this counts the
// interpreter loops on the goroutine's stack since the coroutine was
// resumed (threadRun). With more than one, the operation blocks instead.
func canYield() bool {
	pcs := make([]uintptr, 256)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(2, pcs)])
	loops := 0
	for {
		frame, more := frames.Next()
		switch frame.Function {
		case luaPackage + ".mainLoop", luaPackage + ".mainLoopWithContext":
			loops++
		case luaPackage + ".threadRun":
			return loops == 1
		}
		if !more {
			return false // not found within the stack read: be safe
		}
	}
}

// luaPackage is the import path of gopher-lua, as stack frames name it.
const luaPackage = "github.com/yuin/gopher-lua"

// eachWorker is one coroutine of wps.each and the item it works on.
type eachWorker struct {
	thread *lua.LState
	cancel context.CancelFunc
	item   int
	// returning is set when fn ended with "return wps.op(...)": a Lua tail
	// call that made the operation the coroutine's last frame, so its
	// result is fn's result and the coroutine is not resumed.
	returning bool
}

// callDone is the outcome of a call a worker yielded.
type callDone struct {
	worker int
	call   call
	value  any
	err    error
}

// wpsEach is wps.each(list, fn, opts). It returns a list with, for each item
// in input order, {ok=true, value=<fn's first result>} or
// {ok=false, error=<the error raised>}.
func wpsEach(a args) int {
	L, inst := a.L, instanceOf(a.L)
	list := a.table(1)
	fn := a.function(2)
	o := a.options(3)
	concurrency := o.int("concurrency", defaultConcurrency, 1, 1000)
	showProgress := o.bool("progress", true)

	n := list.Len()
	results := L.CreateTable(n, 0)
	var bar *progressBar
	if showProgress && isTerminal(inst.m.config.Stderr) {
		bar = &progressBar{w: inst.m.config.Stderr, total: n}
		defer bar.finish()
	}

	ctx := Context(L)
	done := make(chan callDone, concurrency)
	workers := make([]eachWorker, min(concurrency, n))
	defer func() {
		for _, w := range workers {
			if w.thread != nil {
				inst.endWorker(&w)
			}
		}
	}()

	// finish records the outcome of the worker's item and frees the worker.
	finish := func(w *eachWorker, ok bool, v lua.LValue) {
		t := L.CreateTable(0, 2)
		t.RawSetString("ok", lua.LBool(ok))
		if ok {
			t.RawSetString("value", v)
		} else {
			t.RawSetString("error", v)
		}
		results.RawSetInt(w.item, t)
		inst.endWorker(w)
		bar.add(ok)
	}
	// step resumes the worker with args and handles what it does next. It
	// returns true when the worker now waits for a call.
	step := func(i int, args ...lua.LValue) bool {
		w := &workers[i]
		state, err, values := L.Resume(w.thread, fn, args...)
		p := pendingCallOf(values)
		switch {
		case state == lua.ResumeError:
			v := raisedValue(err)
			if ud, ok := v.(*lua.LUserData); ok {
				if _, ok := ud.Value.(*ExitRequest); ok {
					L.Error(v, 0) // os.exit in fn ends the script, not just the item
				}
			}
			finish(w, false, v)
			return false
		case state == lua.ResumeOK && p == nil:
			finish(w, true, values[0])
			return false
		case state == lua.ResumeYield && p == nil:
			name := a.fn.QualifiedName()
			finish(w, false, lua.LString(name+": the function yielded; only wps operations may yield inside "+name))
			return false
		}
		w.returning = state == lua.ResumeOK
		go func() {
			v, err := p.call.do(ctx, p.client)
			done <- callDone{worker: i, call: p.call, value: v, err: err}
		}()
		return true
	}

	next, waiting := 1, 0
	idle := make([]int, 0, len(workers))
	for i := range workers {
		idle = append(idle, i)
	}
	for {
		// Start items on the idle workers.
		for len(idle) > 0 && next <= n {
			i := idle[len(idle)-1]
			idle = idle[:len(idle)-1]
			w := &workers[i]
			w.thread, w.cancel = L.NewThread()
			w.item, w.returning = next, false
			inst.workers[w.thread] = true
			if step(i, list.RawGetInt(next), lua.LNumber(next)) {
				waiting++
			} else {
				idle = append(idle, i)
			}
			next++
		}
		if waiting == 0 {
			break
		}
		// Wait for a call to finish, and resume its worker.
		var d callDone
		select {
		case d = <-done:
		case <-ctx.Done():
			L.RaiseError("%s: %v", a.fn.QualifiedName(), ctx.Err())
		}
		waiting--
		if d.err != nil {
			finish(&workers[d.worker], false, errorTable(L, d.call.op, d.err))
			idle = append(idle, d.worker)
			continue
		}
		var args []lua.LValue
		if d.call.result != nil {
			args = []lua.LValue{d.call.result(L, d.value)}
		}
		if w := &workers[d.worker]; w.returning {
			result := lua.LValue(lua.LNil)
			if len(args) > 0 {
				result = args[0]
			}
			finish(w, true, result)
			idle = append(idle, d.worker)
			continue
		}
		if step(d.worker, args...) {
			waiting++
		} else {
			idle = append(idle, d.worker)
		}
	}
	L.Push(results)
	return 1
}

// pendingCallOf returns the call an operation yielded, if values is that.
func pendingCallOf(values []lua.LValue) *pendingCall {
	if len(values) == 0 {
		return nil
	}
	if ud, ok := values[0].(*lua.LUserData); ok {
		if p, ok := ud.Value.(*pendingCall); ok {
			return p
		}
	}
	return nil
}

// endWorker forgets the worker's coroutine.
func (inst *instance) endWorker(w *eachWorker) {
	delete(inst.workers, w.thread)
	if w.cancel != nil {
		w.cancel()
	}
	w.thread, w.cancel = nil, nil
}

// raisedValue returns the Lua value an error carries: the value raised by
// the script for a Lua error, the message otherwise.
func raisedValue(err error) lua.LValue {
	if apiErr, ok := err.(*lua.ApiError); ok && apiErr.Object != nil {
		return apiErr.Object
	}
	return lua.LString(err.Error())
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// progressBar draws "[#####     ] 50/100, 2 failed" on one terminal line,
// redrawn at most ten times a second. A nil *progressBar draws nothing.
type progressBar struct {
	w            io.Writer
	total        int
	done, failed int
	drawn        time.Time
}

// add counts one finished item.
func (p *progressBar) add(ok bool) {
	if p == nil {
		return
	}
	p.done++
	if !ok {
		p.failed++
	}
	if now := time.Now(); now.Sub(p.drawn) >= 100*time.Millisecond || p.done == p.total {
		p.drawn = now
		p.draw()
	}
}

// draw writes the bar over the current line.
func (p *progressBar) draw() {
	const width = 30
	filled := width
	if p.total > 0 {
		filled = width * p.done / p.total
	}
	line := fmt.Sprintf("\r[%s%s] %d/%d", strings.Repeat("#", filled), strings.Repeat(" ", width-filled), p.done, p.total)
	if p.failed > 0 {
		line += fmt.Sprintf(", %d failed", p.failed)
	}
	fmt.Fprint(p.w, line)
}

// finish draws the final state and ends the line.
func (p *progressBar) finish() {
	if p == nil {
		return
	}
	p.draw()
	fmt.Fprintln(p.w)
}
