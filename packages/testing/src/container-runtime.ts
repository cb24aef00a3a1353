import { dockerEngineAnswers } from './docker.ts'

/** How the test kit decides whether containers can be started, and what to say when not. */
export interface ContainerRuntimeCheck {
  answers(): Promise<boolean>
  /** Where it looked, for the error when nothing answers. */
  where: string
}

/**
 * A Docker host given explicitly is probed (`GET /_ping`). Otherwise testcontainers' own
 * detection decides, as it will when it starts the containers: `DOCKER_HOST` (Podman, Colima and
 * remote engines through it), `~/.testcontainers.properties`, the Docker socket, rootless and
 * Docker Desktop sockets, and Windows' named pipe.
 */
export function containerRuntimeCheck(
  dockerHost: string | undefined,
  detect: () => Promise<unknown> = testcontainersRuntime,
): ContainerRuntimeCheck {
  if (dockerHost)
    return { answers: () => dockerEngineAnswers(dockerHost), where: `at ${dockerHost}` }
  return {
    answers: () =>
      detect().then(
        () => true,
        () => false,
      ),
    where:
      'where testcontainers looks (DOCKER_HOST, ~/.testcontainers.properties, the Docker sockets)',
  }
}

async function testcontainersRuntime(): Promise<unknown> {
  const { getContainerRuntimeClient } = await import('testcontainers')
  return getContainerRuntimeClient()
}
