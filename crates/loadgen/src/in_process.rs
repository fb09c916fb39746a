//! A gRPC service of the project served in the benchmark's own process, on a free port of the
//! loopback interface, until told to stop.

use std::net::SocketAddr;

use anyhow::Context as _;
use receivables::authentication::Gate;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::service::Routes;
use tonic::transport::Channel;
use tonic::transport::server::TcpIncoming;

/// Where the service listens: a free port on the loopback interface.
const LISTEN: &str = "127.0.0.1:0";

/// A service serving in this process.
pub struct InProcessServer {
    pub address: SocketAddr,
    stop: oneshot::Sender<()>,
    server: JoinHandle<Result<(), tonic::transport::Error>>,
}

impl InProcessServer {
    /// Serves `routes` (`Routes::new(SomeServiceServer::new(...))`) behind the gate of a
    /// listener without authentication (`--insecure`): the gate lets every call through as the
    /// anonymous caller, so the figures hold the gate's cost but no token lookup or TLS.
    pub async fn start(routes: Routes) -> anyhow::Result<InProcessServer> {
        let listener = TcpListener::bind(LISTEN)
            .await
            .with_context(|| format!("cannot listen on {LISTEN}"))?;
        let address = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(
            tonic::transport::Server::builder()
                .layer(Gate::Open.layer())
                .add_routes(routes)
                .serve_with_incoming_shutdown(
                    TcpIncoming::from(listener).with_nodelay(Some(true)),
                    async {
                        let _ = stopped.await;
                    },
                ),
        );
        Ok(InProcessServer {
            address,
            stop,
            server,
        })
    }

    /// A channel to the service.
    pub async fn channel(&self) -> anyhow::Result<Channel> {
        Channel::from_shared(format!("http://{}", self.address))?
            .tcp_nodelay(true)
            .connect()
            .await
            .with_context(|| format!("cannot connect to the service at {}", self.address))
    }

    /// Stops serving and waits for the server to finish.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(());
        self.server.await??;
        Ok(())
    }
}
