package odata

import (
	"strconv"
	"strings"
)

// operatorNames maps the operator ops to their keywords, for String.
var operatorNames = map[op]string{
	opAnd: "and", opOr: "or",
	opEq: "eq", opNe: "ne", opGt: "gt", opGe: "ge", opLt: "lt", opLe: "le",
}

// write appends the normal form of n (see Expr.String) to b.
func (n *node) write(b *strings.Builder) {
	switch n.op {
	case opLiteral:
		switch n.lit.kind {
		case kindString:
			b.WriteString(Quote(n.lit.s))
		case kindInt:
			b.WriteString(strconv.FormatInt(n.lit.i, 10))
		case kindBool:
			b.WriteString(strconv.FormatBool(n.lit.b))
		default:
			b.WriteString("null")
		}
	case opUserID:
		b.WriteString("userId")
	case opConnectionID:
		b.WriteString("connectionId")
	case opGroups:
		b.WriteString("groups")
	case opNot:
		b.WriteString("not ")
		n.args[0].writeOperand(b)
	case opAnd, opOr, opEq, opNe, opGt, opGe, opLt, opLe:
		for i, a := range n.args {
			if i > 0 {
				b.WriteString(" " + operatorNames[n.op] + " ")
			}
			a.writeOperand(b)
		}
	case opInList:
		n.args[0].writeOperand(b)
		b.WriteString(" in (")
		for i, a := range n.args[1:] {
			if i > 0 {
				b.WriteString(", ")
			}
			a.write(b)
		}
		b.WriteString(")")
	case opInGroups:
		n.args[0].writeOperand(b)
		b.WriteString(" in groups")
	case opLengthGroups:
		b.WriteString("length(groups)")
	default:
		b.WriteString(functionNames[n.op])
		b.WriteString("(")
		for i, a := range n.args {
			if i > 0 {
				b.WriteString(", ")
			}
			a.write(b)
		}
		b.WriteString(")")
	}
}

// writeOperand writes n, parenthesised unless it is a literal, an
// identifier or a function call.
func (n *node) writeOperand(b *strings.Builder) {
	switch n.op {
	case opNot, opAnd, opOr, opEq, opNe, opGt, opGe, opLt, opLe, opInList, opInGroups:
		b.WriteString("(")
		n.write(b)
		b.WriteString(")")
	default:
		n.write(b)
	}
}
