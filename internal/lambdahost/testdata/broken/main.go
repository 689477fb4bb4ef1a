// Command broken does not compile; the Build test checks that the compiler output
// reaches the caller.
package main

func main() {
	var n int = "not a number"
	_ = n
}
