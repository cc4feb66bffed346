// Package odata parses and evaluates the OData filters of Azure Web PubSub
// (the filter parameter of send-to-all, send-to-group, send-to-user and the
// body of add/remove connections to/from groups), and builds them safely from
// untrusted values.
//
// Parse a filter once with [Parse] and call [Expr.Match] for every candidate
// connection; Match does not allocate for the common forms (comparisons, in
// lists, group membership). [Format] builds a filter from a template, quoting
// every argument, so a hostile user id cannot change the filter's meaning.
//
// The grammar is the service's: identifiers userId, connectionId and groups;
// eq ne gt ge lt le; and or not; parentheses; in lists and 'g' in groups; the
// functions tolower toupper trim substring concat startswith endswith contains
// indexof length; true false null, signed integers and 'quoted' strings in
// which a quote is written twice. Precedence from high to low
// is not, comparisons, and, or, so "not length(userId) gt 5" is a type error:
// write "not (length(userId) gt 5)".
//
// Case: keywords, identifiers and function names are case-insensitive (userid,
// USERID and userId are the same). Values are compared case-sensitively
// (ordinal), group membership included: 'Chat' in groups does not match a
// connection in group chat. The service documentation's own examples rely on
// this ("tolower(userId) eq 'user1' can match connections for user USER1"), and
// the service treats group and user names case-sensitively everywhere else.
// Use tolower or toupper for a case-insensitive test.
//
// Null: a connection without a user has userId null. String and integer
// functions of null are null; eq and ne treat null as a value (userId eq null);
// gt, ge, lt and le with a null operand are false; a boolean function with a
// null argument is false. Lengths and positions count Unicode code points.
package odata
