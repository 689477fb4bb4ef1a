package main

import (
	"fmt"
	"go/ast"
	"go/types"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"

	"golang.org/x/tools/go/packages"
)

// sdkServicePrefix is the import path prefix of the AWS SDK for Go v2 service
// clients; an operation's input type is <prefix><service>.<Operation>Input.
const sdkServicePrefix = "github.com/aws/aws-sdk-go-v2/service/"

// Call is one AWS API operation the code calls, or one field of an SDK type it sets
// that changes what the call needs (e.g. a TransactWriteItem's Put).
type Call struct {
	Service   string // e.g. "s3" (the SDK package name)
	Operation string // e.g. "PutObject"; for a field, "<Type>.<Field>"
}

// String returns "service:Operation", e.g. "s3:PutObject".
func (c Call) String() string { return c.Service + ":" + c.Operation }

// scanner finds the calls reachable from a main package. Reachability is computed
// over the module's own code, on the syntax, conservatively:
//   - main, every init function and every package-level variable initializer are
//     reachable;
//   - a function or method named (called or taken as a value) in reachable code is
//     reachable;
//   - a method called through an interface makes that method reachable on every
//     module type that implements the interface;
//   - a value of a module type passed to code outside the module (lambda.Start, the
//     SDK) makes every exported method of that type reachable, since that code may
//     call any of them (through an interface or reflection).
//
// Calls are found at their call sites in the module's code: a call whose callee takes
// a *<service>.<Op>Input argument is the operation Op, whatever the callee is (an SDK
// client, a consumer's small interface, a paginator constructor). What the SDK does
// inside (credential providers, retries) is not an operation of the function's role.
type scanner struct {
	module  string
	pkgs    []*packages.Package
	decls   map[*types.Func]*ast.FuncDecl
	declPkg map[*ast.FuncDecl]*packages.Package
	types   []*types.TypeName // the module's named types

	reached map[*types.Func]bool
	queue   []*types.Func
	ifaces  map[string]*types.Interface // interface methods called, by "iface.method"
	calls   map[Call]string             // call -> first position seen
	current string                      // the function being inspected, for IAMCHECK_TRACE
}

// scanned memoizes scan within one process (the tests check many templates).
var scanned sync.Map // [2]string{dir, pattern} -> map[Call]string

// scanCached is scan, memoized; callers must not modify the map.
func scanCached(dir, pattern string) (map[Call]string, error) {
	key := [2]string{dir, pattern}
	if v, ok := scanned.Load(key); ok {
		return v.(map[Call]string), nil
	}
	calls, err := scan(dir, pattern)
	if err == nil {
		scanned.Store(key, calls)
	}
	return calls, err
}

// scan loads the main package at pattern (relative to dir) and returns the AWS calls
// reachable from it, each with the position of one call site.
func scan(dir, pattern string) (map[Call]string, error) {
	cfg := &packages.Config{Mode: packages.LoadAllSyntax | packages.NeedModule, Dir: dir, Tests: false}
	roots, err := packages.Load(cfg, pattern)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", pattern, err)
	}
	if len(roots) != 1 || roots[0].Name != "main" {
		return nil, fmt.Errorf("load %s: want one main package, got %d packages", pattern, len(roots))
	}
	var loadErrs []string
	packages.Visit(roots, nil, func(p *packages.Package) {
		for _, e := range p.Errors {
			loadErrs = append(loadErrs, e.Error())
		}
	})
	if len(loadErrs) > 0 {
		return nil, fmt.Errorf("load %s: %s", pattern, strings.Join(loadErrs, "; "))
	}
	root := roots[0]
	if root.Module == nil {
		return nil, fmt.Errorf("load %s: not in a module", pattern)
	}
	s := &scanner{
		module: root.Module.Path, decls: map[*types.Func]*ast.FuncDecl{}, declPkg: map[*ast.FuncDecl]*packages.Package{},
		reached: map[*types.Func]bool{}, ifaces: map[string]*types.Interface{}, calls: map[Call]string{},
	}
	packages.Visit(roots, nil, func(p *packages.Package) {
		if s.inModule(p.Types) {
			s.pkgs = append(s.pkgs, p)
		}
	})
	s.index()
	for _, p := range s.pkgs {
		for _, f := range p.Syntax {
			for _, d := range f.Decls {
				switch d := d.(type) {
				case *ast.GenDecl: // package-level variable initializers
					s.inspect(p, d)
				case *ast.FuncDecl:
					if d.Recv == nil && (d.Name.Name == "init" || (p == root && d.Name.Name == "main")) {
						s.inspect(p, d.Body)
					}
				}
			}
		}
	}
	for len(s.queue) > 0 || s.dispatch() {
		fn := s.queue[0]
		s.queue = s.queue[1:]
		s.current = fn.FullName()
		if d := s.decls[fn]; d != nil && d.Body != nil {
			s.inspect(s.declPkg[d], d.Body)
		}
	}
	return s.calls, nil
}

func (s *scanner) inModule(p *types.Package) bool {
	return p != nil && (p.Path() == s.module || strings.HasPrefix(p.Path(), s.module+"/"))
}

// index records every function declaration and named type of the module.
func (s *scanner) index() {
	for _, p := range s.pkgs {
		for _, f := range p.Syntax {
			for _, d := range f.Decls {
				if fd, ok := d.(*ast.FuncDecl); ok {
					if fn, ok := p.TypesInfo.Defs[fd.Name].(*types.Func); ok {
						s.decls[fn] = fd
						s.declPkg[fd] = p
					}
				}
			}
		}
		scope := p.Types.Scope()
		for _, name := range scope.Names() {
			if tn, ok := scope.Lookup(name).(*types.TypeName); ok && !tn.IsAlias() {
				s.types = append(s.types, tn)
			}
		}
	}
}

func (s *scanner) reach(fn *types.Func) {
	fn = fn.Origin()
	if s.reached[fn] || !s.inModule(fn.Pkg()) {
		return
	}
	s.reached[fn] = true
	if os.Getenv("IAMCHECK_TRACE") != "" {
		fmt.Fprintf(os.Stderr, "reach %s (from %s)\n", fn.FullName(), s.current)
	}
	s.queue = append(s.queue, fn)
}

// reachAllMethods makes every exported method of t (and *t) reachable: code outside
// the module can call no other.
func (s *scanner) reachAllMethods(t types.Type) {
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	named, ok := types.Unalias(t).(*types.Named)
	if !ok || !s.inModule(named.Obj().Pkg()) {
		return
	}
	ms := types.NewMethodSet(types.NewPointer(named))
	for i := 0; i < ms.Len(); i++ {
		if fn, ok := ms.At(i).Obj().(*types.Func); ok && fn.Exported() {
			s.reach(fn)
		}
	}
}

// dispatch resolves the interface calls seen so far onto the module's types; it
// reports whether it queued anything.
func (s *scanner) dispatch() bool {
	before := len(s.queue)
	for _, k := range slices.Sorted(maps.Keys(s.ifaces)) {
		iface := s.ifaces[k]
		method := k[strings.LastIndex(k, ".")+1:]
		for _, tn := range s.types {
			if _, isIface := tn.Type().Underlying().(*types.Interface); isIface {
				continue
			}
			ptr := types.NewPointer(tn.Type())
			if !types.Implements(ptr, iface) {
				continue
			}
			if sel := types.NewMethodSet(ptr).Lookup(tn.Pkg(), method); sel != nil {
				s.reach(sel.Obj().(*types.Func))
			} else if obj, _, _ := types.LookupFieldOrMethod(ptr, true, nil, method); obj != nil {
				if fn, ok := obj.(*types.Func); ok {
					s.reach(fn)
				}
			}
		}
	}
	return len(s.queue) > before
}

// inspect walks the code of one reachable function (its closures included).
func (s *scanner) inspect(p *packages.Package, n ast.Node) {
	info := p.TypesInfo
	ast.Inspect(n, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.Ident:
			if fn, ok := info.Uses[n].(*types.Func); ok {
				s.useFunc(fn)
			}
		case *ast.SelectorExpr:
			if sel, ok := info.Selections[n]; ok && sel.Kind() == types.FieldVal {
				s.field(p, sel.Recv(), n.Sel.Name, n)
			}
		case *ast.CompositeLit:
			if tv, ok := info.Types[n]; ok {
				for _, e := range n.Elts {
					if kv, ok := e.(*ast.KeyValueExpr); ok {
						if id, ok := kv.Key.(*ast.Ident); ok {
							s.field(p, tv.Type, id.Name, kv)
						}
					}
				}
			}
		case *ast.CallExpr:
			s.call(p, n)
		}
		return true
	})
}

// useFunc handles a named function or method.
func (s *scanner) useFunc(fn *types.Func) {
	sig, _ := fn.Type().(*types.Signature)
	if sig != nil && sig.Recv() != nil {
		if iface, ok := sig.Recv().Type().Underlying().(*types.Interface); ok {
			s.ifaces[types.TypeString(sig.Recv().Type(), nil)+"."+fn.Name()] = iface
			return
		}
	}
	s.reach(fn)
}

// call records the AWS operation of a call, and makes the methods of module values
// handed to code outside the module reachable.
func (s *scanner) call(p *packages.Package, call *ast.CallExpr) {
	tv, ok := p.TypesInfo.Types[call.Fun]
	if !ok || tv.IsType() {
		return
	}
	sig, ok := tv.Type.Underlying().(*types.Signature)
	if !ok {
		return
	}
	for i := 0; i < sig.Params().Len(); i++ {
		if c, ok := operationOf(sig.Params().At(i).Type()); ok {
			s.record(p, c, call)
		}
	}
	// A call of a func value is not an escape: the function it holds was named, and so
	// reached, where the value was made.
	if callee := calleeFunc(p.TypesInfo, call.Fun); callee != nil && !s.inModule(callee.Pkg()) {
		for _, arg := range call.Args {
			if at, ok := p.TypesInfo.Types[arg]; ok {
				s.reachAllMethods(at.Type)
			}
		}
	}
}

// calleeFunc returns the function a call expression names, or nil (a func value).
func calleeFunc(info *types.Info, fun ast.Expr) *types.Func {
	switch f := ast.Unparen(fun).(type) {
	case *ast.Ident:
		fn, _ := info.Uses[f].(*types.Func)
		return fn
	case *ast.SelectorExpr:
		fn, _ := info.Uses[f.Sel].(*types.Func)
		return fn
	case *ast.IndexExpr:
		return calleeFunc(info, f.X)
	case *ast.IndexListExpr:
		return calleeFunc(info, f.X)
	}
	return nil
}

// operationOf returns the operation whose input type t is (*<service>.<Op>Input).
func operationOf(t types.Type) (Call, bool) {
	ptr, ok := t.(*types.Pointer)
	if !ok {
		return Call{}, false
	}
	named, ok := types.Unalias(ptr.Elem()).(*types.Named)
	if !ok || named.Obj().Pkg() == nil {
		return Call{}, false
	}
	path, name := named.Obj().Pkg().Path(), named.Obj().Name()
	svc, ok := strings.CutPrefix(path, sdkServicePrefix)
	if !ok || strings.Contains(svc, "/") || !strings.HasSuffix(name, "Input") {
		return Call{}, false
	}
	return Call{Service: svc, Operation: strings.TrimSuffix(name, "Input")}, true
}

// field records a set field of an SDK type that fieldActions knows.
func (s *scanner) field(p *packages.Package, t types.Type, name string, at ast.Node) {
	if ptr, ok := t.Underlying().(*types.Pointer); ok {
		t = ptr.Elem()
	}
	named, ok := types.Unalias(t).(*types.Named)
	if !ok || named.Obj().Pkg() == nil {
		return
	}
	path := named.Obj().Pkg().Path()
	rest, ok := strings.CutPrefix(path, sdkServicePrefix)
	if !ok {
		return
	}
	svc, _, _ := strings.Cut(rest, "/")
	c := Call{Service: svc, Operation: named.Obj().Name() + "." + name}
	if _, known := fieldActions[c]; known {
		s.record(p, c, at)
	}
}

func (s *scanner) record(p *packages.Package, c Call, at ast.Node) {
	if _, seen := s.calls[c]; !seen {
		s.calls[c] = p.Fset.Position(at.Pos()).String()
	}
}
