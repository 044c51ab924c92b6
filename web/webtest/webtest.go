// Package webtest drives the web UI in a real browser for tests: Debian's headless chromium,
// through the DevTools protocol (chromedp), kept off every network but the one under test.
package webtest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/datastax/mission-control/internal/testenv"
)

// Browser starts a headless chromium for t, at 1280x800, that reaches serverURL's host and
// nothing else, and stops it when t ends. Native
// dialogs (the UI's confirmations) are accepted. insecureTLS accepts any server certificate: the
// caller checks the certificate itself (chromium cannot be given a CA without a profile store).
func Browser(t *testing.T, serverURL string, insecureTLS bool) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		testenv.Unmet(t, "needs Debian's chromium for the UI tests: apt-get install chromium (hack/deps.sh test installs it)")
		return nil
	}
	u, err := url.Parse(serverURL)
	if err != nil || u.Hostname() == "" {
		t.Fatalf("browser for %q: not a URL", serverURL)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // as root, chromium refuses its sandbox
		chromedp.WindowSize(1280, 800),
		chromedp.UserDataDir(t.TempDir()),
		// Nothing but the server under test: no other host resolves (IP literals included),
		// nothing is fetched on the side.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE "+u.Hostname()),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("no-pings", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("ignore-certificate-errors", insecureTLS),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Listen(ctx, func(ev any) {
		if _, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			go func() {
				_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
			}()
		}
	}); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// Do runs steps, bounded by a minute, and fails t naming what with the first error.
func Do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	step, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := chromedp.Do(step, steps...); err != nil {
		Screenshot(t, ctx, "failed")
		t.Fatalf("%s: %v", what, err)
	}
}

// WaitText waits until the first element matching selector holds text.
func WaitText(selector, text string) chromedp.Action[chromedp.Void] {
	js := fmt.Sprintf(`(() => { const el = document.querySelector(%q); return !!el && el.textContent.includes(%q); })()`, selector, text)
	return chromedp.Poll[chromedp.Void](js, chromedp.WithPollingTimeout(45*time.Second))
}

// WaitGone waits until no element matches selector.
func WaitGone(selector string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](fmt.Sprintf(`document.querySelector(%q) === null`, selector), chromedp.WithPollingTimeout(45*time.Second))
}

// Screenshot saves the viewport as NAME.png among t's artifacts (go test -artifacts keeps them).
func Screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	shot, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(shot, chromedp.CaptureScreenshot())
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	path := filepath.Join(t.ArtifactDir(), name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Errorf("save screenshot: %v", err)
		return
	}
	t.Logf("screenshot: %s", path)
}

// SignIn signs in at base with token, by keyboard: the token, Tab to the button, Enter.
func SignIn(t *testing.T, ctx context.Context, base, token string) {
	t.Helper()
	Do(t, ctx, "sign in",
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS("#token")),
		chromedp.SendKeys(chromedp.CSS("#token"), token),
		chromedp.KeyEvent("\t"),
		chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(chromedp.CSS("#clusters")),
	)
}
