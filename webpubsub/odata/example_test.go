package odata_test

import (
	"fmt"

	"wps/webpubsub/odata"
)

func ExampleFormat() {
	filter, err := odata.Format("userId eq {} and {} in groups", "o'brien", "chat")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(filter)
	// Output: userId eq 'o''brien' and 'chat' in groups
}

func ExampleParse() {
	f, err := odata.Parse("'chat' in groups and not (userId eq 'Bob')")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(f.Match(alice), f.Match(bob))

	_, err = odata.Parse("not length(userId) gt 5")
	fmt.Println(err)
	// Output:
	// true false
	// filter: invalid syntax for 'not length(userId)': type 'int', expect 'bool'
}
