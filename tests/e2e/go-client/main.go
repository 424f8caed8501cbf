// The MCP Go SDK's own OAuth client, as its example (examples/auth/client/main.go at v1.8.0) sets it
// up, with the example's commented-out Dynamic Client Registration enabled as written. Gatehouse's
// end-to-end suite builds and runs it: the only thing the test does in its place is the browser
// step (it signs in and consents, then delivers the redirect to this program's callback server).
//
// Beyond the example, it walks what a user of the client would do next: call tools, keep working
// past the access token's lifetime (the SDK refreshes on its own), and call a tool that needs a
// scope it was not granted (the SDK steps up on 403 insufficient_scope). Each result is printed as
// one line starting with RESULT, for the test to read; the tokens themselves are never printed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
)

var (
	serverURL    = flag.String("server_url", "http://localhost:8000/mcp", "URL of the MCP server.")
	callbackPort = flag.Int("callback_port", 3142, "Port for the local HTTP server that will receive the authorization code.")
	idle         = flag.Duration("idle", 0, "How long to wait between the first calls and the next ones (past the access token's lifetime, to make the SDK refresh).")
)

// codeReceiver is the example's callback server, unchanged in behaviour.
type codeReceiver struct {
	authChan chan *auth.AuthorizationResult
	errChan  chan error
	server   *http.Server
}

func (r *codeReceiver) serveRedirectHandler(listener net.Listener) {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, req *http.Request) {
		r.authChan <- &auth.AuthorizationResult{
			Code:  req.URL.Query().Get("code"),
			State: req.URL.Query().Get("state"),
			Iss:   req.URL.Query().Get("iss"),
		}
		fmt.Fprint(w, "Authentication successful. You can close this window.")
	})
	r.server = &http.Server{Addr: fmt.Sprintf("localhost:%d", *callbackPort), Handler: mux}
	if err := r.server.Serve(listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
		r.errChan <- err
	}
}

func (r *codeReceiver) getAuthorizationCode(ctx context.Context, args *auth.AuthorizationArgs) (*auth.AuthorizationResult, error) {
	fmt.Printf("Please open the following URL in your browser: %s\n", args.URL)
	select {
	case authRes := <-r.authChan:
		return authRes, nil
	case err := <-r.errChan:
		return nil, err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (r *codeReceiver) close() {
	if r.server != nil {
		r.server.Close()
	}
}

// callTool prints one RESULT line: the tool's text, or its error as the SDK reports it.
func callTool(ctx context.Context, session *mcp.ClientSession, name string, args map[string]any) {
	params := &mcp.CallToolParams{Name: name}
	if args != nil { // a nil map would be sent as "arguments": null, which the schema forbids
		params.Arguments = args
	}
	res, err := session.CallTool(ctx, params)
	if err != nil {
		fmt.Printf("RESULT %s error: %s\n", name, strings.Join(strings.Fields(err.Error()), " "))
		return
	}
	var text []string
	for _, content := range res.Content {
		if t, ok := content.(*mcp.TextContent); ok {
			text = append(text, t.Text)
		}
	}
	fmt.Printf("RESULT %s isError=%t: %s\n", name, res.IsError, strings.Join(text, " "))
}

func main() {
	flag.Parse()
	receiver := &codeReceiver{
		authChan: make(chan *auth.AuthorizationResult),
		errChan:  make(chan error),
	}
	listener, err := net.Listen("tcp", fmt.Sprintf("localhost:%d", *callbackPort))
	if err != nil {
		log.Fatalf("failed to listen: %v", err)
	}
	go receiver.serveRedirectHandler(listener)
	defer receiver.close()

	authHandler, err := auth.NewAuthorizationCodeHandler(&auth.AuthorizationCodeHandlerConfig{
		RedirectURL:              fmt.Sprintf("http://localhost:%d", *callbackPort),
		AuthorizationCodeFetcher: receiver.getAuthorizationCode,
		DynamicClientRegistrationConfig: &auth.DynamicClientRegistrationConfig{
			Metadata: &oauthex.ClientRegistrationMetadata{
				ClientName:   "Dynamically registered MCP client",
				RedirectURIs: []string{fmt.Sprintf("http://localhost:%d", *callbackPort)},
				Scope:        "read",
			},
		},
	})
	if err != nil {
		log.Fatalf("failed to create auth handler: %v", err)
	}

	transport := &mcp.StreamableClientTransport{
		Endpoint:     *serverURL,
		OAuthHandler: authHandler,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	client := mcp.NewClient(&mcp.Implementation{Name: "test-client", Version: "1.0.0"}, nil)
	session, err := client.Connect(ctx, transport, nil)
	if err != nil {
		log.Fatalf("client.Connect(): %v", err)
	}
	defer session.Close()

	tools, err := session.ListTools(ctx, nil)
	if err != nil {
		log.Fatalf("session.ListTools(): %v", err)
	}
	names := make([]string, 0, len(tools.Tools))
	for _, tool := range tools.Tools {
		names = append(names, tool.Name)
	}
	fmt.Printf("RESULT tools: %s\n", strings.Join(names, ","))
	callTool(ctx, session, "whoami", nil)

	if *idle > 0 {
		time.Sleep(*idle)
		callTool(ctx, session, "add_numbers", map[string]any{"a": 2, "b": 3})
		callTool(ctx, session, "whoami", nil)
	}
	callTool(ctx, session, "server_status", nil)
	fmt.Println("DONE")
	os.Stdout.Sync()
}
